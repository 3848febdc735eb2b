// JSON for load balancing and health checks. `loadBalancing` is one object with the policy's arguments
// beside it (`{"policy": "cookie", "key": "srv", "tryDuration": "5s"}`); the string form older
// configurations have (`"round_robin"`) still reads. Durations are Caddyfile strings, as elsewhere.

extension LoadBalancing: Codable {
  private enum Keys: String, CodingKey {
    case policy, weights, choose, key, secret, maxAge, fallback, tryDuration, tryInterval, retries
  }

  public init(from decoder: any Decoder) throws {
    if let single = try? decoder.singleValueContainer(), let name = try? single.decode(String.self) {
      guard let kind = SelectionPolicy.Kind(rawValue: name) else {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown lb_policy '\(name)'"))
      }
      self.init(selection: SelectionPolicy(kind))
      return
    }
    let c = try decoder.container(keyedBy: Keys.self)
    let d = LoadBalancing()
    let selection = SelectionPolicy(
      try c.decode(.policy, default: d.selection.kind), weights: try c.decodeIfPresent([Int].self, forKey: .weights),
      choose: try c.decodeIfPresent(Int.self, forKey: .choose), key: try c.decodeIfPresent(String.self, forKey: .key),
      secret: try c.decodeIfPresent(String.self, forKey: .secret), maxAge: try c.decodeDuration(.maxAge),
      fallback: try c.decodeIfPresent(SelectionPolicy.Kind.self, forKey: .fallback))
    self.init(
      selection: selection, tryDuration: try c.decodeDuration(.tryDuration) ?? d.tryDuration,
      tryInterval: try c.decodeDuration(.tryInterval) ?? d.tryInterval, retries: try c.decodeIfPresent(Int.self, forKey: .retries))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(selection.kind, forKey: .policy)
    try c.encodeIfPresent(selection.weights, forKey: .weights)
    try c.encodeIfPresent(selection.choose, forKey: .choose)
    try c.encodeIfPresent(selection.key, forKey: .key)
    try c.encodeIfPresent(selection.secret, forKey: .secret)
    if let maxAge = selection.maxAge { try c.encodeDuration(maxAge, forKey: .maxAge) }
    try c.encodeIfPresent(selection.fallback, forKey: .fallback)
    try c.encodeDuration(tryDuration, forKey: .tryDuration)
    try c.encodeDuration(tryInterval, forKey: .tryInterval)
    try c.encodeIfPresent(retries, forKey: .retries)
  }
}

extension HealthChecks: Codable {
  private enum Keys: String, CodingKey { case active, passive }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(
      active: try c.decodeIfPresent(ActiveHealthCheck.self, forKey: .active),
      passive: try c.decode(.passive, default: PassiveHealthCheck()))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeIfPresent(active, forKey: .active)
    if passive != PassiveHealthCheck() { try c.encode(passive, forKey: .passive) }
  }
}

extension ActiveHealthCheck: Codable {
  private enum Keys: String, CodingKey {
    case uri, port, interval, timeout, statuses, body, headers, method, passes, fails
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = ActiveHealthCheck()
    self.init(
      uri: try c.decode(.uri, default: d.uri), port: try c.decodeIfPresent(Int.self, forKey: .port),
      interval: try c.decodeDuration(.interval) ?? d.interval, timeout: try c.decodeDuration(.timeout) ?? d.timeout,
      statuses: try c.decode(.statuses, default: d.statuses), body: try c.decodeIfPresent(String.self, forKey: .body),
      headers: try c.decode(.headers, default: d.headers), method: try c.decode(.method, default: d.method),
      passes: try c.decode(.passes, default: d.passes), fails: try c.decode(.fails, default: d.fails))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(uri, forKey: .uri)
    try c.encodeIfPresent(port, forKey: .port)
    try c.encodeDuration(interval, forKey: .interval)
    try c.encodeDuration(timeout, forKey: .timeout)
    if !statuses.isEmpty { try c.encode(statuses, forKey: .statuses) }
    try c.encodeIfPresent(body, forKey: .body)
    if !headers.isEmpty { try c.encode(headers, forKey: .headers) }
    try c.encode(method, forKey: .method)
    try c.encode(passes, forKey: .passes)
    try c.encode(fails, forKey: .fails)
  }
}

extension PassiveHealthCheck: Codable {
  private enum Keys: String, CodingKey {
    case failDuration, maxFails, unhealthyStatus, unhealthyLatency, unhealthyRequestCount
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = PassiveHealthCheck()
    self.init(
      failDuration: try c.decodeDuration(.failDuration) ?? d.failDuration, maxFails: try c.decode(.maxFails, default: d.maxFails),
      unhealthyStatus: try c.decode(.unhealthyStatus, default: d.unhealthyStatus),
      unhealthyLatency: try c.decodeDuration(.unhealthyLatency),
      unhealthyRequestCount: try c.decode(.unhealthyRequestCount, default: d.unhealthyRequestCount))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeDuration(failDuration, forKey: .failDuration)
    try c.encode(maxFails, forKey: .maxFails)
    if !unhealthyStatus.isEmpty { try c.encode(unhealthyStatus, forKey: .unhealthyStatus) }
    if let unhealthyLatency { try c.encodeDuration(unhealthyLatency, forKey: .unhealthyLatency) }
    if unhealthyRequestCount != 0 { try c.encode(unhealthyRequestCount, forKey: .unhealthyRequestCount) }
  }
}
