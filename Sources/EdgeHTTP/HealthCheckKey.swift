import EdgeConfig
import EdgeCore
import EdgeProxy
import EdgeRegex

/// One active health checker's identity: an upstream address and the settings it is probed with. Routes
/// naming the same address with the same settings share one checker and one `UpstreamHealth` (so do a
/// table and the next one after a reload, which keeps what the probes found).
public struct HealthCheckKey: Hashable, Sendable, CustomStringConvertible {
  public let address: String
  public let host: String
  public let port: Int
  public let check: ActiveHealthCheck

  public var description: String { address }

  /// The probe these settings describe.
  public var probe: HealthProbe {
    HealthProbe(
      host: host, port: check.port ?? port, uri: check.uri, hostHeader: address,
      fields: check.headers.map { ($0.name, $0.value) }, method: check.method,
      statuses: StatusPattern.ranges(check.statuses) ?? [], body: check.body.flatMap { try? CompiledRegex($0) },
      timeoutMilliseconds: check.timeout.milliseconds, intervalMilliseconds: max(check.interval.milliseconds, 1),
      passes: check.passes, fails: check.fails)
  }

  private static let registry = Locked<[HealthCheckKey: UpstreamHealth]>([:])

  /// The health state for `key`, made on first use.
  public static func health(for key: HealthCheckKey) -> UpstreamHealth {
    registry.withLock { known in
      if let health = known[key] { return health }
      let health = UpstreamHealth()
      known[key] = health
      return health
    }
  }

  /// Forgets the states of checks no table in service has any more (a table built and refused, or one
  /// replaced): a check that comes back later starts unchecked.
  public static func forget(allBut keys: Set<HealthCheckKey>) {
    registry.withLock { known in known = known.filter { keys.contains($0.key) } }
  }
}
