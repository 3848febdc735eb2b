import EdgeHTTP
import EdgeLoop
import EdgeProxy
import Logging

/// The node's active health checkers, on the control loop: one per upstream address and check settings
/// of the route table in service, however many routes and workers use them.
///
/// A reload keeps the checkers whose key is still wanted (and so what their probes found), starts the new
/// ones, which probe at once, and stops the others, closing their timers and sockets.
final class HealthCheckers {
  private let loop: EventLoop
  private let resolver: Resolver
  private let logger: Logger
  private var running: [HealthCheckKey: HealthChecker] = [:]

  init(loop: EventLoop, logger: Logger) {
    self.loop = loop
    self.logger = logger
    resolver = Resolver(loop: loop)
  }

  /// Runs exactly the checks `table` needs. Called on the control loop.
  func reconcile(_ table: RouteTable) {
    let wanted = table.activeHealthChecks
    for (key, checker) in running where !wanted.contains(key) {
      checker.stop()
      running[key] = nil
    }
    for key in wanted where running[key] == nil {
      let logger = self.logger
      let address = key.address
      let checker = HealthChecker(
        loop: loop, resolver: resolver, probe: key.probe, health: HealthCheckKey.health(for: key)
      ) { status, reason in
        if status == .unhealthy {
          logger.warning("upstream unhealthy", metadata: ["upstream": "\(address)", "reason": "\(reason)"])
        } else {
          logger.info("upstream healthy", metadata: ["upstream": "\(address)"])
        }
      }
      checker.start()
      running[key] = checker
    }
    HealthCheckKey.forget(allBut: wanted)
  }

  /// Stops every checker (shutdown).
  func stopAll() {
    for checker in running.values { checker.stop() }
    running.removeAll()
  }

  /// How many checkers run (tests, the log).
  var count: Int { running.count }
}

@available(*, unavailable)
extension HealthCheckers: Sendable {}
