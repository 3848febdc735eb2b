/// Whether an upstream may get requests: probed in the background (active), or judged by how the
/// requests sent to it went (passive). An upstream that fails either is skipped by load balancing until
/// it recovers; with every upstream unavailable, a request waits `lb_try_duration` and then gets 503.
public struct HealthChecks: Sendable, Equatable {
  public var active: ActiveHealthCheck?
  public var passive: PassiveHealthCheck
  public init(active: ActiveHealthCheck? = nil, passive: PassiveHealthCheck = PassiveHealthCheck()) {
    self.active = active
    self.passive = passive
  }

  public var isEmpty: Bool { active == nil && passive == PassiveHealthCheck() }
}

/// A plain HTTP/1.1 request to each upstream every `interval`; one checker per upstream address and set
/// of these settings on a node, however many routes name them.
///
/// Caddyfile: `health_uri <uri>` (or `health_path <path>`) and/or `health_port <port>` turn it on;
/// `health_interval`, `health_timeout`, `health_status <code|class…>`, `health_body <regex>`,
/// `health_headers { <field> <value…> }`, `health_method`, `health_passes`, `health_fails` refine it.
public struct ActiveHealthCheck: Sendable, Equatable, Hashable {
  /// Path and query requested (default "/").
  public var uri: String
  /// The port probed instead of the upstream's own (the host stays the upstream's).
  public var port: Int?
  /// Time between the start of two probes (default 30s).
  public var interval: Duration
  /// A probe not answered in full within this long fails (default 5s).
  public var timeout: Duration
  /// Statuses that pass, as codes or classes (empty: any 2xx).
  public var statuses: [String]
  /// A regular expression the response body (its first 64 KiB) must match.
  public var body: String?
  /// Fields sent with the probe (`Host` replaces the upstream's address), in order.
  public var headers: [HeaderField]
  /// The probe's method (default GET).
  public var method: String
  /// Consecutive passes that make an unhealthy upstream healthy again (default 1).
  public var passes: Int
  /// Consecutive failures that make an upstream unhealthy (default 1).
  public var fails: Int

  public init(
    uri: String = "/", port: Int? = nil, interval: Duration = .seconds(30), timeout: Duration = .seconds(5),
    statuses: [String] = [], body: String? = nil, headers: [HeaderField] = [], method: String = "GET", passes: Int = 1,
    fails: Int = 1
  ) {
    self.uri = uri
    self.port = port
    self.interval = interval
    self.timeout = timeout
    self.statuses = statuses
    self.body = body
    self.headers = headers
    self.method = method
    self.passes = passes
    self.fails = fails
  }
}

/// A request field with one value (`health_headers` lines with several values give several fields).
public struct HeaderField: Codable, Sendable, Equatable, Hashable {
  public var name: String
  public var value: String
  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }
}

/// What makes proxied requests count against their upstream, and for how long.
///
/// Failures (unreachable, closed before answering, no response head in time, a bad response head, an
/// `unhealthy_status`, a head later than `unhealthy_latency`) are remembered per upstream address, shared
/// by every route and worker, for `fail_duration`; an upstream with `max_fails` of them is skipped.
public struct PassiveHealthCheck: Sendable, Equatable, Hashable {
  /// How long a failure counts (zero: failures are not remembered, passive checks off).
  public var failDuration: Duration
  /// Failures within `failDuration` that make an upstream unavailable (default 1).
  public var maxFails: Int
  /// Response statuses that count as failures (codes or classes).
  public var unhealthyStatus: [String]
  /// A response head later than this counts as a failure.
  public var unhealthyLatency: Duration?
  /// An upstream with this many requests in flight gets no more until one ends (0: no limit).
  public var unhealthyRequestCount: Int

  public init(
    failDuration: Duration = .zero, maxFails: Int = 1, unhealthyStatus: [String] = [], unhealthyLatency: Duration? = nil,
    unhealthyRequestCount: Int = 0
  ) {
    self.failDuration = failDuration
    self.maxFails = maxFails
    self.unhealthyStatus = unhealthyStatus
    self.unhealthyLatency = unhealthyLatency
    self.unhealthyRequestCount = unhealthyRequestCount
  }
}
