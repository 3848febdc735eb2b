import EdgeRegex

extension LoadBalancing {
  /// The weighted order a `weighted_round_robin` table holds is at most this long (the weights' sum over
  /// their greatest common divisor).
  public static let maxWeightedPeriod = 65_536

  /// Checks the policy's arguments against the policy and the `upstreams` it balances over (the
  /// Caddyfile adapter checks most of them as it reads; a JSON configuration only here).
  func validate(upstreams: Int, at location: SourceLocation?) throws(ConfigError) {
    let policy = selection
    let name = policy.kind.rawValue
    func refuse(_ message: String) -> ConfigError { ConfigError("lb_policy \(name): \(message)", at: location) }
    if let weights = policy.weights {
      guard policy.kind == .weightedRoundRobin else { throw refuse("weights belong to weighted_round_robin") }
      guard weights.count == upstreams else {
        throw refuse("\(Self.counted(weights.count, "weight")) for \(Self.counted(upstreams, "upstream")); give one weight per upstream, in order")
      }
      if weights.contains(where: { $0 < 0 }) { throw refuse("weights must not be negative") }
      guard weights.contains(where: { $0 > 0 }) else { throw refuse("at least one weight must be positive") }
      let period = Self.weightedPeriod(weights)
      guard period <= Self.maxWeightedPeriod else {
        throw refuse("the weights add up to a cycle of \(period) turns (at most \(Self.maxWeightedPeriod)); use smaller weights in the same ratio")
      }
    } else if policy.kind == .weightedRoundRobin {
      throw refuse("needs one weight per upstream, e.g. 'lb_policy weighted_round_robin 3 1'")
    }
    if let choose = policy.choose {
      guard policy.kind == .randomChoose else { throw refuse("'choose' belongs to random_choose") }
      guard choose >= 2 else { throw refuse("must choose at least 2 upstreams (got \(choose))") }
    } else if policy.kind == .randomChoose {
      throw refuse("needs how many upstreams to draw, e.g. 'lb_policy random_choose 2'")
    }
    switch policy.kind {
    case .query, .header:
      guard let key = policy.key, !key.isEmpty else {
        let (what, example) = policy.kind == .query ? ("query parameter", "user") : ("header field", "X-User")
        throw refuse("needs the \(what) to hash, e.g. 'lb_policy \(name) \(example)'")
      }
    case .cookie:
      if policy.key?.isEmpty == true { throw refuse("the cookie name is empty") }
    default:
      if policy.key != nil { throw refuse("takes no key") }
    }
    if policy.kind != .cookie, policy.secret != nil || policy.maxAge != nil {
      throw refuse("'secret' and 'max_age' belong to the cookie policy")
    }
    if let maxAge = policy.maxAge, maxAge <= .zero { throw refuse("max_age must be positive") }
    if let fallback = policy.fallback {
      guard [.query, .header, .cookie].contains(policy.kind) else {
        throw refuse("only query, header and cookie take a fallback policy")
      }
      guard fallback.isSimple else {
        throw refuse("fallback '\(fallback.rawValue)' takes arguments; use \(SelectionPolicy.simpleNames)")
      }
    }
    if tryDuration < .zero { throw ConfigError("lb_try_duration must not be negative", at: location) }
    if tryInterval < .zero { throw ConfigError("lb_try_interval must not be negative", at: location) }
    if let retries, retries < 0 { throw ConfigError("lb_retries must not be negative (got \(retries))", at: location) }
  }

  /// "1 weight", "3 upstreams".
  static func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

  /// How many turns one cycle of smooth weighted round robin has for `weights`.
  static func weightedPeriod(_ weights: [Int]) -> Int {
    func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    let divisor = weights.reduce(0, gcd)
    guard divisor > 0 else { return 0 }
    return weights.reduce(0) { $0 + $1 / divisor }
  }
}

extension HealthChecks {
  func validate(at location: SourceLocation?) throws(ConfigError) {
    if let active { try active.validate(at: location) }
    try passive.validate(at: location)
  }
}

extension ActiveHealthCheck {
  func validate(at location: SourceLocation?) throws(ConfigError) {
    guard uri.hasPrefix("/"), !uri.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
      throw ConfigError("health_uri '\(uri)' must be a path (and query) starting with '/', without spaces", at: location)
    }
    if let port { try EdgeConfig.checkPort(port, "health_port", at: location) }
    if interval <= .zero { throw ConfigError("health_interval must be positive", at: location) }
    if timeout <= .zero { throw ConfigError("health_timeout must be positive", at: location) }
    guard StatusPattern.ranges(statuses) != nil else {
      throw ConfigError("health_status '\(statuses.joined(separator: " "))': write codes (200) or classes (2xx)", at: location)
    }
    if let body {
      do { _ = try CompiledRegex(body) } catch {
        throw ConfigError("health_body: \(error)", at: location)
      }
    }
    for field in headers {
      try HeaderOperation(kind: .set, name: field.name, value: field.value).validate(at: location)
    }
    let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    guard !method.isEmpty, method.allSatisfy({ tokenCharacters.contains($0) }) else {
      throw ConfigError("health_method '\(method)' is not a method name", at: location)
    }
    if passes < 1 { throw ConfigError("health_passes must be at least 1 (got \(passes))", at: location) }
    if fails < 1 { throw ConfigError("health_fails must be at least 1 (got \(fails))", at: location) }
  }
}

extension PassiveHealthCheck {
  func validate(at location: SourceLocation?) throws(ConfigError) {
    if failDuration < .zero { throw ConfigError("fail_duration must not be negative", at: location) }
    if maxFails < 1 { throw ConfigError("max_fails must be at least 1 (got \(maxFails))", at: location) }
    guard StatusPattern.ranges(unhealthyStatus) != nil else {
      throw ConfigError("unhealthy_status '\(unhealthyStatus.joined(separator: " "))': write codes (503) or classes (5xx)", at: location)
    }
    if let unhealthyLatency, unhealthyLatency <= .zero { throw ConfigError("unhealthy_latency must be positive", at: location) }
    if unhealthyRequestCount < 0 {
      throw ConfigError("unhealthy_request_count must not be negative (got \(unhealthyRequestCount))", at: location)
    }
    // Failures are only remembered for fail_duration: without it these would change nothing.
    if failDuration == .zero {
      let idle = [
        maxFails != 1 ? "max_fails" : nil, unhealthyStatus.isEmpty ? nil : "unhealthy_status",
        unhealthyLatency == nil ? nil : "unhealthy_latency",
      ].compactMap { $0 }
      if let first = idle.first {
        throw ConfigError("\(first) counts failures, which are remembered only with fail_duration; add e.g. 'fail_duration 30s'", at: location)
      }
    }
  }
}
