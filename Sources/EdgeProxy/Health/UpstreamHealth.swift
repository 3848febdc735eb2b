import EdgeCore
import Synchronization

/// What active health checks say about one upstream: read by every worker on each selection (one
/// atomic load), written by the one checker that probes it.
///
/// An upstream starts `unchecked` and takes requests like a healthy one until probes say otherwise
/// (as Caddy does), so a reload or a new upstream does not wait an interval before serving.
public final class UpstreamHealth: Sendable {
  public enum Status: UInt8, Sendable {
    case unchecked, healthy, unhealthy

    public var name: String {
      switch self {
      case .unchecked: "unchecked"
      case .healthy: "healthy"
      case .unhealthy: "unhealthy"
      }
    }
  }

  private let raw = Atomic<UInt8>(Status.unchecked.rawValue)
  /// Consecutive probe results of the kind that would change the status (passes while unhealthy,
  /// failures otherwise).
  private let streak = Locked(0)

  public init() {}

  public var status: Status { Status(rawValue: raw.load(ordering: .relaxed)) ?? .unchecked }

  /// Whether selection may pick the upstream.
  @inline(__always)
  public var isUsable: Bool { raw.load(ordering: .relaxed) != Status.unhealthy.rawValue }

  /// Counts one probe result; after `passes` passes in a row an unhealthy upstream is healthy again, after
  /// `fails` failures in a row a healthy (or unchecked) one is unhealthy. Returns the new status when it
  /// changed.
  @discardableResult
  public func record(passed: Bool, passes: Int, fails: Int) -> Status? {
    streak.withLock { streak -> Status? in
      let current = status
      if passed {
        if current == .unhealthy {
          streak += 1
          guard streak >= passes else { return nil }
        }
        streak = 0
        guard current != .healthy else { return nil }
        raw.store(Status.healthy.rawValue, ordering: .relaxed)
        return .healthy
      }
      if current == .unhealthy {
        streak = 0
        return nil
      }
      streak += 1
      guard streak >= fails else { return nil }
      streak = 0
      raw.store(Status.unhealthy.rawValue, ordering: .relaxed)
      return .unhealthy
    }
  }
}
