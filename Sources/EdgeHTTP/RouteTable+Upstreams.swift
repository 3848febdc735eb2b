import EdgeProxy

/// One upstream address as `/reverse_proxy/upstreams` and `edge_upstream_healthy` show it.
public struct UpstreamStatus: Sendable, Equatable {
  public let address: String
  /// Requests in flight and since start (all routes, all tables).
  public let active: Int
  public let total: Int
  /// Failures remembered now, within the longest `fail_duration` of the routes naming it (0 when none
  /// remembers failures).
  public let fails: Int
  /// Every route naming it may pick it: no active check says unhealthy and no route's passive checks
  /// count `max_fails` failures.
  public let healthy: Bool
  /// What active checks say: unhealthy if any checker does, healthy if one has passed, else unchecked.
  public let activeHealth: UpstreamHealth.Status
}

extension RouteTable {
  /// Every `reverse_proxy` of this table, in groups and error routes too.
  public var proxyRoutes: [ProxyRoute] {
    func proxies(_ routes: [CompiledRoute]) -> [ProxyRoute] {
      routes.flatMap { route -> [ProxyRoute] in
        switch route.handler {
        case .proxy(let proxy): [proxy]
        case .group(let group), .route(let group): proxies(group.routes)
        default: []
        }
      }
    }
    var seen = Set<ObjectIdentifier>()
    var found: [ProxyRoute] = []
    for listener in listeners.values {
      for site in listener.sites {
        for proxy in proxies(site.routes) + site.errorRoutes.flatMap({ proxies($0.routes) })
        where seen.insert(ObjectIdentifier(proxy)).inserted {
          found.append(proxy)
        }
      }
    }
    return found
  }

  /// Every upstream address of this table with its counters and health, sorted by address.
  public func upstreamStatus(now: UInt64? = nil) -> [UpstreamStatus] {
    let clock = now ?? Balancer.milliseconds()
    var byAddress: [String: [(ProxyRoute, UpstreamTarget)]] = [:]
    for proxy in proxyRoutes {
      for target in proxy.targets { byAddress[target.description, default: []].append((proxy, target)) }
    }
    return byAddress.keys.sorted().map { address in
      let uses = byAddress[address]!
      let stats = uses[0].1.stats
      let window = uses.map(\.0.balancer.failWindow).max() ?? 0
      let healthy = uses.allSatisfy { proxy, target in
        if let health = target.health, !health.isUsable { return false }
        let balancer = proxy.balancer
        return balancer.failWindow == 0
          || stats.failures.count(at: clock, window: balancer.failWindow, limit: balancer.maxFails) < balancer.maxFails
      }
      let statuses = uses.compactMap { $0.1.health?.status }
      let activeHealth: UpstreamHealth.Status =
        statuses.contains(.unhealthy) ? .unhealthy : statuses.contains(.healthy) ? .healthy : .unchecked
      return UpstreamStatus(
        address: address, active: stats.active.load(ordering: .relaxed), total: stats.total.load(ordering: .relaxed),
        fails: stats.failures.count(at: clock, window: window), healthy: healthy, activeHealth: activeHealth)
    }
  }

  /// The active health checks this table needs, one per address and settings.
  public var activeHealthChecks: Set<HealthCheckKey> {
    Set(proxyRoutes.flatMap { $0.targets.compactMap(\.healthKey) })
  }
}
