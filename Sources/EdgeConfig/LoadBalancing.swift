/// How a `reverse_proxy` picks an upstream for each request, and how long it keeps trying when the one it
/// picked cannot be reached.
///
/// Caddyfile (inside `reverse_proxy { … }`):
/// ```
/// lb_policy <policy> [<args…>] [{ fallback <policy>; max_age <d> }]
/// lb_retries <n>           # more tries after the first, across rounds (default: each upstream once)
/// lb_try_duration <d>      # keep trying this long when no upstream answers (default 0: no waiting)
/// lb_try_interval <d>      # wait between rounds of tries (default 250ms)
/// ```
public struct LoadBalancing: Sendable, Equatable {
  public var selection: SelectionPolicy
  /// How long a request may keep looking for an upstream: rounds of tries `tryInterval` apart while it
  /// lasts. Zero: no second round (each upstream is still tried once).
  public var tryDuration: Duration
  /// The pause between two rounds of tries.
  public var tryInterval: Duration
  /// How many tries after the first a request gets, across rounds; nil: each upstream once, then more
  /// rounds only while `tryDuration` lasts.
  public var retries: Int?

  public init(
    selection: SelectionPolicy = SelectionPolicy(), tryDuration: Duration = .zero,
    tryInterval: Duration = .milliseconds(250), retries: Int? = nil
  ) {
    self.selection = selection
    self.tryDuration = tryDuration
    self.tryInterval = tryInterval
    self.retries = retries
  }

  /// Whether a request may wait for an upstream and try again after every upstream failed.
  public var retriesLater: Bool { tryDuration > .zero || (retries ?? 0) > 0 }
}

/// `lb_policy`: which upstream a request goes to. The policies and their arguments are Caddy's.
public struct SelectionPolicy: Sendable, Equatable, Hashable {
  public enum Kind: String, Codable, Sendable, CaseIterable {
    /// A random available upstream.
    case random
    /// `random_choose <n>`: the least busy of `n` random available upstreams.
    case randomChoose = "random_choose"
    /// In turn, shared by every worker.
    case roundRobin = "round_robin"
    /// `weighted_round_robin <w…>`: in turn, `w` times as often; the turns interleave (smooth, as nginx).
    case weightedRoundRobin = "weighted_round_robin"
    /// The available upstream with the fewest requests in flight (ties: random).
    case leastConn = "least_conn"
    /// By the address of the connection's peer.
    case ipHash = "ip_hash"
    /// By the client's address (the peer's until edge trusts proxies in front of it).
    case clientIPHash = "client_ip_hash"
    /// The first available upstream, in the order written.
    case first
    /// By the request target (path and query).
    case uriHash = "uri_hash"
    /// `query <key>`: by the values of a query parameter; `fallback` when it is absent.
    case query
    /// `header <field>`: by a request field's value; `fallback` when it is absent.
    case header
    /// `cookie [<name> [<secret>]]`: sticky sessions. The cookie names the upstream (HMAC-SHA256 of its
    /// address under `secret`); without it, or when that upstream is unavailable, `fallback` picks one and
    /// the response sets the cookie.
    case cookie

    /// Policies without arguments of their own: the ones `fallback` may name.
    public var isSimple: Bool {
      switch self {
      case .random, .roundRobin, .leastConn, .ipHash, .clientIPHash, .first, .uriHash: true
      default: false
      }
    }
  }

  public var kind: Kind
  /// `weighted_round_robin`: one weight per upstream, in order (0: never chosen).
  public var weights: [Int]?
  /// `random_choose`: how many upstreams to draw (at least 2).
  public var choose: Int?
  /// `query`: the parameter; `header`: the field; `cookie`: the cookie's name (default "lb").
  public var key: String?
  /// `cookie`: the HMAC key (default: empty).
  public var secret: String?
  /// `cookie`: the cookie's Max-Age (default: a session cookie).
  public var maxAge: Duration?
  /// `query`, `header`, `cookie`: the policy used when the request does not name an upstream
  /// (default random).
  public var fallback: Kind?

  public init(
    _ kind: Kind = .roundRobin, weights: [Int]? = nil, choose: Int? = nil, key: String? = nil, secret: String? = nil,
    maxAge: Duration? = nil, fallback: Kind? = nil
  ) {
    self.kind = kind
    self.weights = weights
    self.choose = choose
    self.key = key
    self.secret = secret
    self.maxAge = maxAge
    self.fallback = fallback
  }

  /// The policies `fallback` may name, for messages.
  static let simpleNames = "random, round_robin, least_conn, first, ip_hash, client_ip_hash or uri_hash"

  /// The cookie a `cookie` policy reads and sets.
  public var cookieName: String { key ?? "lb" }
}

/// Statuses written as a code (`503`) or a class (`5xx`), as in `unhealthy_status` and `health_status`.
public enum StatusPattern {
  /// The ranges `patterns` stand for; nil when one is neither a status (100–599) nor a class (`1xx`–`5xx`).
  public static func ranges(_ patterns: [String]) -> [ClosedRange<Int>]? {
    var ranges: [ClosedRange<Int>] = []
    for pattern in patterns {
      if pattern.count == 3, pattern.lowercased().hasSuffix("xx"), let digit = Int(pattern.prefix(1)), (1...5).contains(digit) {
        ranges.append(digit * 100...digit * 100 + 99)
      } else if pattern.count == 3, let code = Int(pattern), (100...599).contains(code) {
        ranges.append(code...code)
      } else {
        return nil
      }
    }
    return ranges
  }
}
