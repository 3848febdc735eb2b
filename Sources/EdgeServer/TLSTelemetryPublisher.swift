import Dispatch
import EdgeCluster
import Foundation
import Logging

/// Adds a cluster member's telemetry counts to the cluster's totals in Redis, every `interval` and when
/// the node shuts down: the delta since the last time, HINCRBY into one hash per dimension
/// (`edge:<cluster>:telemetry:<dimension>`), so each hash holds the totals of every node.
///
/// One EVAL per flush, so Redis takes a delta whole or not at all; one it did not take (Redis away) is
/// kept and goes with the next flush. A reply lost after Redis applied the script would count that delta
/// twice; counters are for trends, not accounting.
final class TLSTelemetryPublisher: @unchecked Sendable {
  // Invariant: `timer` and `failing` are used on `queue` only.
  private let telemetry: TLSTelemetry
  private let agent: ClusterAgent
  private let logger: Logger
  private let queue = DispatchQueue(label: "edge.telemetry")
  private var timer: DispatchSourceTimer?
  /// The last flush failed (logged once until one succeeds).
  private var failing = false

  static let script = """
    for i = 1, #ARGV, 3 do
      redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
    end
    return #ARGV / 3
    """

  init(telemetry: TLSTelemetry, agent: ClusterAgent, logger: Logger) {
    self.telemetry = telemetry
    self.agent = agent
    self.logger = logger
  }

  func start(interval: Duration = .seconds(10)) {
    queue.async { [self] in
      let timer = DispatchSource.makeTimerSource(queue: queue)
      let period = DispatchTimeInterval.milliseconds(Int(interval.milliseconds))
      timer.schedule(deadline: .now() + period, repeating: period)
      timer.setEventHandler { [weak self] in self?.flush() }
      timer.resume()
      self.timer = timer
    }
  }

  /// Stops the timer and publishes what is left (waits for it: call before the agent disconnects).
  func stop() {
    queue.sync {
      timer?.cancel()
      timer = nil
      flush()
    }
  }

  /// Sends the delta since the last flush, if there is one.
  private func flush() {
    let delta = telemetry.takePending()
    guard !delta.isEmpty else { return }
    let dimensions = TLSTelemetry.Dimension.allCases.filter { !(delta[$0]?.isEmpty ?? true) }
    var arguments: [[UInt8]] = [Array("EVAL".utf8), Array(Self.script.utf8), Array(String(dimensions.count).utf8)]
    arguments += dimensions.map { Array(agent.options.keys.telemetry($0).utf8) }
    for (index, dimension) in dimensions.enumerated() {
      for (key, count) in delta[dimension] ?? [:] {
        arguments += [Array(String(index + 1).utf8), Array(key.utf8), Array(String(count).utf8)]
      }
    }
    do {
      _ = try agent.storage.command(arguments)
      if failing { logger.info("telemetry counts reach redis again") }
      failing = false
    } catch {
      telemetry.restorePending(delta)
      if !failing {
        logger.warning("cannot add telemetry counts to redis; kept for the next attempt", metadata: ["error": "\(error)"])
      }
      failing = true
    }
  }
}

extension ClusterKeys {
  /// The hash holding the cluster's totals for one telemetry dimension.
  public func telemetry(_ dimension: TLSTelemetry.Dimension) -> String { prefix + "telemetry:" + dimension.rawValue }
}

extension TLSTelemetry {
  /// The cluster's totals, read from Redis (HGETALL of every dimension's hash).
  public static func clusterTotals(_ agent: ClusterAgent) throws -> Counts {
    var counts: Counts = [:]
    for dimension in Dimension.allCases {
      let reply = try agent.storage.command(["HGETALL", agent.options.keys.telemetry(dimension)].map { Array($0.utf8) })
      let flat = reply.array ?? []
      var keys: [String: Int] = [:]
      for index in stride(from: 0, to: flat.count - 1, by: 2) {
        if let key = flat[index].string, let value = flat[index + 1].string.flatMap({ Int($0) }) { keys[key] = value }
      }
      if !keys.isEmpty { counts[dimension] = keys }
    }
    return counts
  }
}
