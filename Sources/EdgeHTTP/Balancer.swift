import EdgeConfig
import EdgeHTTP1
import EdgeProxy
import Glibc
import Synchronization

/// How one `reverse_proxy` picks an upstream: its `lb_policy` compiled, the cursor and random state every
/// worker shares (atomics, no lock), and what makes an upstream unavailable (active checks, remembered
/// failures, requests in flight).
///
/// Selection only considers available upstreams not yet tried by the request. Plain round robin over
/// upstreams without health settings is the hot path: one atomic add and an index.
public final class Balancer: Sendable {
  enum Rule: Sendable, Equatable {
    case random, roundRobin, leastConn, ipHash, clientIPHash, first, uriHash
    case randomChoose(Int)
    /// The turns of one weighted cycle (upstream indexes).
    case weighted([Int])
    case query(String)
    case header(String)
    /// `header Host`: the request's host as parsed (from Host or the absolute target).
    case host
    case cookie(name: String)
  }

  let rule: Rule
  /// For `query`, `header` and `cookie` requests that name no upstream.
  let fallback: Rule
  /// Whether any availability rule applies; when not, every upstream is always available.
  let checksAvailability: Bool
  /// Passive health: failures count for this long (ms; 0: not remembered) and `maxFails` of them make
  /// an upstream unavailable.
  let failWindow: UInt64
  let maxFails: Int
  /// Requests in flight at which an upstream takes no more (0: no limit).
  let maxRequests: Int
  /// Round robin over upstreams that are always available: no request needs more than the cursor.
  let plainRoundRobin: Bool
  /// The `cookie` policy's cookie attributes after `name=value`.
  let cookieAttributes: String?
  private let cursor = Atomic<UInt>(0)
  private let randomState: Atomic<UInt64>

  init(_ config: ReverseProxy, hasActiveChecks: Bool) {
    let selection = config.loadBalancing.selection
    rule = Self.rule(selection)
    fallback = Self.rule(SelectionPolicy(selection.fallback ?? .random))
    let passive = config.healthChecks.passive
    failWindow = passive.failDuration.milliseconds
    maxFails = max(passive.maxFails, 1)
    maxRequests = passive.unhealthyRequestCount
    checksAvailability = hasActiveChecks || failWindow > 0 || maxRequests > 0
    plainRoundRobin = rule == .roundRobin && !checksAvailability
    if selection.kind == .cookie {
      var attributes = "; Path=/; HttpOnly"
      if let maxAge = selection.maxAge { attributes += "; Max-Age=\(max(maxAge.milliseconds / 1000, 1))" }
      cookieAttributes = attributes
    } else {
      cookieAttributes = nil
    }
    randomState = Atomic(UInt64.random(in: .min ... .max))
  }

  private static func rule(_ policy: SelectionPolicy) -> Rule {
    switch policy.kind {
    case .random: .random
    case .roundRobin: .roundRobin
    case .leastConn: .leastConn
    case .ipHash: .ipHash
    case .clientIPHash: .clientIPHash
    case .first: .first
    case .uriHash: .uriHash
    case .randomChoose: .randomChoose(policy.choose ?? 2)
    case .weightedRoundRobin: .weighted(SmoothWeightedOrder.cycle(policy.weights ?? []))
    case .query: .query(policy.key ?? "")
    case .header: policy.key?.lowercased() == "host" ? .host : .header(policy.key ?? "")
    case .cookie: .cookie(name: policy.cookieName)
    }
  }

  /// What a policy may look at: the request as it goes upstream, and who sent it.
  struct Request {
    let head: RequestHead
    /// The connection's peer.
    let remoteIP: String
    /// The client as edge knows it (`client_ip_hash`).
    let clientIP: String
  }

  /// The upstream for `request` among `targets`, skipping the ones in `tried` and the unavailable ones;
  /// nil when none is left. `now` (monotonic ms) is read from the clock when not given.
  func select(
    _ targets: [UpstreamTarget], _ head: RequestHead, remoteIP: String, clientIP: String, excluding tried: UpstreamSet,
    now: UInt64? = nil
  ) -> UpstreamTarget? {
    if plainRoundRobin, tried.isEmpty {
      let n = cursor.add(1, ordering: .relaxed).oldValue
      return targets[Int(n % UInt(targets.count))]
    }
    let clock = failWindow > 0 ? (now ?? Self.milliseconds()) : 0
    let pick = Pick(balancer: self, targets: targets, tried: tried, now: clock)
    return pick.by(rule, Request(head: head, remoteIP: remoteIP, clientIP: clientIP))
  }

  /// Whether `target` may get a request now (monotonic ms), tried or not.
  @inline(__always)
  func isAvailable(_ target: UpstreamTarget, now: UInt64) -> Bool {
    guard checksAvailability else { return true }
    if let health = target.health, !health.isUsable { return false }
    if failWindow > 0, target.stats.failures.count(at: now, window: failWindow, limit: maxFails) >= maxFails { return false }
    if maxRequests > 0, target.stats.active.load(ordering: .relaxed) >= maxRequests { return false }
    return true
  }

  /// Whether passive checks are on: failures are then remembered.
  var remembersFailures: Bool { failWindow > 0 }

  /// Remembers a failure of `target` (passive health), when this route remembers failures.
  func recordFailure(of target: UpstreamTarget, now: UInt64? = nil) {
    guard failWindow > 0 else { return }
    target.stats.failures.record(at: now ?? Self.milliseconds(), window: failWindow)
  }

  /// The `Set-Cookie` value for a response from `target` under the `cookie` policy, when the request's
  /// cookie does not already name it (no cookie, or its upstream was unavailable); nil otherwise. Over
  /// TLS the cookie is `Secure` and `SameSite=None`, as Caddy sets it.
  func stickyCookie(for target: UpstreamTarget, request: RequestHead, secure: Bool) -> String? {
    guard let attributes = cookieAttributes, case .cookie(let name) = rule, let value = target.cookieValue,
      Pick.cookie(name, in: request.headers) != value
    else { return nil }
    return "\(name)=\(value)\(attributes)\(secure ? "; Secure; SameSite=None" : "; SameSite=Lax")"
  }

  /// A uniformly random number below `bound` (> 0), from a generator every worker shares lock-free
  /// (splitmix64 over an atomic counter).
  func random(below bound: Int) -> Int {
    let state = randomState.wrappingAdd(0x9e37_79b9_7f4a_7c15, ordering: .relaxed).newValue
    return Int(StableHash.mix(state).multipliedFullWidth(by: UInt64(bound)).high)
  }

  /// The round-robin cursor's next turn.
  func nextTurn() -> UInt { cursor.add(1, ordering: .relaxed).oldValue }

  static func milliseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
  }
}
