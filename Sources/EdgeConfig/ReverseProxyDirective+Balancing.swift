import EdgeCaddyfile
import EdgeRegex

/// The load-balancing and health-check lines of `reverse_proxy` (syntax on `LoadBalancing`,
/// `ActiveHealthCheck` and `PassiveHealthCheck`). Each error points at the token it is about.
extension ReverseProxyDirective {
  static let balancingOptions = [
    "lb_policy", "lb_retries", "lb_try_duration", "lb_try_interval", "health_uri", "health_path", "health_port",
    "health_interval", "health_timeout", "health_status", "health_body", "health_headers", "health_method",
    "health_passes", "health_fails", "fail_duration", "max_fails", "unhealthy_status", "unhealthy_latency",
    "unhealthy_request_count",
  ]

  /// What the lines read so far said, and where, for the checks that need the whole block.
  struct BalancingLines {
    var policyToken: Token?
    var active: ActiveHealthCheck?
    /// `health_uri`, `health_path` or `health_port`: what turns active checks on.
    var activeEnabled = false
    /// The first other `health_*` line (it needs one of the above).
    var firstActiveOption: Token?
    var failDurationGiven = false
    /// The first `max_fails`, `unhealthy_status` or `unhealthy_latency` line (it needs `fail_duration`).
    var firstFailureOption: Token?
  }

  /// Reads one load-balancing or health line into `proxy`. False when `option` is none of them.
  static func parseBalancing(
    _ option: Token, _ d: inout Dispenser, _ proxy: inout ReverseProxy, _ lines: inout BalancingLines
  ) throws(ConfigError) -> Bool {
    var active = lines.active ?? ActiveHealthCheck()
    var passive = proxy.healthChecks.passive
    switch option.text {
    case "lb_policy":
      lines.policyToken = option
      proxy.loadBalancing.selection = try policy(&d)
      return true
    case "lb_retries": proxy.loadBalancing.retries = try d.intArg(atLeast: 0)
    case "lb_try_duration": proxy.loadBalancing.tryDuration = try nonNegativeDuration(&d)
    case "lb_try_interval": proxy.loadBalancing.tryInterval = try nonNegativeDuration(&d)
    case "health_uri", "health_path":
      let arg = try d.singleArg()
      guard arg.text.hasPrefix("/"), !arg.text.contains(" ") else {
        throw ConfigError("'\(option.text)' must be a path starting with '/', e.g. /healthz", at: arg)
      }
      active.uri = arg.text
      lines.activeEnabled = true
    case "health_port":
      active.port = try d.portArg()
      lines.activeEnabled = true
    case "health_interval": active.interval = try d.positiveDurationArg()
    case "health_timeout": active.timeout = try d.positiveDurationArg()
    case "health_status": active.statuses = try statuses(&d, option)
    case "health_body":
      let arg = try d.singleArg()
      do { _ = try CompiledRegex(arg.text) } catch { throw ConfigError("health_body: \(error)", at: arg) }
      active.body = arg.text
    case "health_headers": active.headers += try headerFields(&d, option)
    case "health_method":
      let arg = try d.singleArg()
      guard arg.text.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-") }) else {
        throw ConfigError("'\(arg.text)' is not a method; write e.g. GET or HEAD", at: arg)
      }
      active.method = arg.text.uppercased()
    case "health_passes": active.passes = try d.intArg(atLeast: 1)
    case "health_fails": active.fails = try d.intArg(atLeast: 1)
    case "fail_duration":
      passive.failDuration = try nonNegativeDuration(&d)
      lines.failDurationGiven = passive.failDuration > .zero
    case "max_fails": passive.maxFails = try d.intArg(atLeast: 1)
    case "unhealthy_status": passive.unhealthyStatus = try statuses(&d, option)
    case "unhealthy_latency": passive.unhealthyLatency = try d.positiveDurationArg()
    case "unhealthy_request_count": passive.unhealthyRequestCount = try d.intArg(atLeast: 1)
    default:
      return false
    }
    if option.text.hasPrefix("health_") {
      lines.active = active
      if !["health_uri", "health_path", "health_port"].contains(option.text), lines.firstActiveOption == nil {
        lines.firstActiveOption = option
      }
    }
    if ["max_fails", "unhealthy_status", "unhealthy_latency"].contains(option.text), lines.firstFailureOption == nil {
      lines.firstFailureOption = option
    }
    proxy.healthChecks.passive = passive
    try d.rejectBlock(option.text)
    return true
  }

  /// The checks that need the whole block: weights against upstreams, and options that would do nothing.
  static func finishBalancing(_ proxy: inout ReverseProxy, _ lines: BalancingLines) throws(ConfigError) {
    if let token = lines.policyToken, let weights = proxy.loadBalancing.selection.weights,
      weights.count != proxy.upstreams.count
    {
      throw ConfigError(
        "weighted_round_robin has \(LoadBalancing.counted(weights.count, "weight")) for "
          + "\(LoadBalancing.counted(proxy.upstreams.count, "upstream")); give one weight per upstream, in order",
        at: token)
    }
    if let active = lines.active {
      guard lines.activeEnabled else {
        throw ConfigError(
          "'\(lines.firstActiveOption?.text ?? "health_*")' needs health_uri or health_port, which turn active health checks on",
          at: lines.firstActiveOption!)
      }
      proxy.healthChecks.active = active
    }
    if let option = lines.firstFailureOption, !lines.failDurationGiven {
      throw ConfigError(
        "'\(option.text)' counts failures, which are remembered only with fail_duration; add e.g. 'fail_duration 30s'",
        at: option)
    }
  }

  /// `lb_policy <name> [<args…>] [{ fallback <policy>; max_age <d> }]`.
  static func policy(_ d: inout Dispenser) throws(ConfigError) -> SelectionPolicy {
    guard d.nextArg() else {
      throw ConfigError("'lb_policy' needs a policy, e.g. round_robin, least_conn or ip_hash", at: d.token)
    }
    let nameToken = d.token
    let all = SelectionPolicy.Kind.allCases.map(\.rawValue)
    guard let kind = SelectionPolicy.Kind(rawValue: nameToken.text) else {
      let hint = DirectiveCatalog.suggestion(for: nameToken.text, among: all)
      throw ConfigError("unknown lb_policy '\(nameToken.text)'\(hint); edge has \(all.joined(separator: ", "))", at: nameToken)
    }
    let args = d.remainingArgTokens()
    var policy = SelectionPolicy(kind)
    func tooMany(_ allowed: Int) -> ConfigError {
      let takes = allowed == 0 ? "no arguments" : "at most \(LoadBalancing.counted(allowed, "argument"))"
      return ConfigError("lb_policy \(kind.rawValue) takes \(takes); remove '\(args[allowed].text)'", at: args[allowed])
    }
    switch kind {
    case .weightedRoundRobin:
      guard !args.isEmpty else {
        throw ConfigError("weighted_round_robin needs one weight per upstream, e.g. 'lb_policy weighted_round_robin 3 1'", at: nameToken)
      }
      var weights: [Int] = []
      for arg in args {
        guard let weight = Int(arg.text), weight >= 0 else {
          throw ConfigError("'\(arg.text)' is not a weight; write a whole number from 0 up", at: arg)
        }
        weights.append(weight)
      }
      guard weights.contains(where: { $0 > 0 }) else {
        throw ConfigError("weighted_round_robin needs at least one positive weight", at: nameToken)
      }
      guard LoadBalancing.weightedPeriod(weights) <= LoadBalancing.maxWeightedPeriod else {
        throw ConfigError(
          "these weights make a cycle longer than \(LoadBalancing.maxWeightedPeriod) turns; use smaller weights in the same ratio",
          at: nameToken)
      }
      policy.weights = weights
    case .randomChoose:
      guard let arg = args.first else {
        throw ConfigError("random_choose needs how many upstreams to draw, e.g. 'lb_policy random_choose 2'", at: nameToken)
      }
      if args.count > 1 { throw tooMany(1) }
      guard let n = Int(arg.text), n >= 2 else {
        throw ConfigError("random_choose draws at least 2 upstreams; '\(arg.text)' is not a whole number from 2 up", at: arg)
      }
      policy.choose = n
    case .query, .header:
      guard let arg = args.first else {
        let (what, example) = kind == .query ? ("query parameter", "user") : ("header field", "X-User")
        throw ConfigError("lb_policy \(kind.rawValue) needs the \(what) to hash, e.g. 'lb_policy \(kind.rawValue) \(example)'", at: nameToken)
      }
      if args.count > 1 { throw tooMany(1) }
      policy.key = arg.text
    case .cookie:
      if args.count > 2 { throw tooMany(2) }
      if args.count >= 1 { policy.key = args[0].text }
      if args.count == 2 { policy.secret = args[1].text }
    default:
      if !args.isEmpty { throw tooMany(0) }
    }
    let level = d.nesting
    while d.nextBlock(level) {
      let line = d.token
      switch line.text {
      case "fallback" where [.query, .header, .cookie].contains(kind):
        let arg = try d.singleArg()
        guard let fallback = SelectionPolicy.Kind(rawValue: arg.text), fallback.isSimple else {
          throw ConfigError("fallback '\(arg.text)': use \(SelectionPolicy.simpleNames)", at: arg)
        }
        policy.fallback = fallback
      case "max_age" where kind == .cookie:
        policy.maxAge = try d.positiveDurationArg()
      default:
        let allowed = kind == .cookie ? ["fallback", "max_age"] : [.query, .header].contains(kind) ? ["fallback"] : []
        if allowed.isEmpty { throw ConfigError("lb_policy \(kind.rawValue) takes no block; remove the '{ … }'", at: line) }
        throw .unrecognized("lb_policy \(kind.rawValue) option", line.text, caddyOnly: false, candidates: allowed, at: line)
      }
    }
    return policy
  }

  private static func nonNegativeDuration(_ d: inout Dispenser) throws(ConfigError) -> Duration {
    let name = d.val
    let duration = try d.durationArg()
    guard duration >= .zero else { throw ConfigError("'\(name)' must not be negative", at: d.token) }
    return duration
  }

  /// `<code|class…>`: 503, 5xx.
  private static func statuses(_ d: inout Dispenser, _ option: Token) throws(ConfigError) -> [String] {
    let args = d.remainingArgTokens()
    guard !args.isEmpty else { throw ConfigError("'\(option.text)' needs status codes or classes, e.g. 5xx or 503", at: option) }
    for arg in args where StatusPattern.ranges([arg.text]) == nil {
      throw ConfigError("'\(arg.text)' is not a status code (100–599) or class (2xx)", at: arg)
    }
    return args.map(\.text)
  }

  /// `health_headers { <field> [<value…>] }`: each value a field of its own, in order.
  private static func headerFields(_ d: inout Dispenser, _ option: Token) throws(ConfigError) -> [HeaderField] {
    try d.noMoreArgs()
    var fields: [HeaderField] = []
    let level = d.nesting
    while d.nextBlock(level) {
      let name = d.token
      let values = d.remainingArgTokens()
      let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
      guard name.text.allSatisfy({ tokenCharacters.contains($0) }) else {
        throw ConfigError("'\(name.text)' is not a field name (letters, digits and !#$%&'*+-.^_`|~)", at: name)
      }
      for value in values.isEmpty ? [] : values {
        if value.text.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
          throw ConfigError("the value of '\(name.text)' contains a line break or NUL", at: value)
        }
        fields.append(HeaderField(name: name.text, value: value.text))
      }
      if values.isEmpty { fields.append(HeaderField(name: name.text, value: "")) }
    }
    if fields.isEmpty { throw ConfigError("'health_headers' needs a block of fields, e.g. '{ Host example.com }'", at: option) }
    return fields
  }
}
