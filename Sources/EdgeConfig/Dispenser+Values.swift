import EdgeCaddyfile

/// Typed argument readers for directive parsers; each error points at the offending token.
extension Dispenser {
  /// Exactly one more argument on this line. `name` (default: the current token) is what messages call
  /// the directive, for when the cursor sits on its matcher.
  mutating func singleArg(for name: String? = nil) throws(ConfigError) -> Token {
    let name = name ?? val
    guard nextArg() else { throw ConfigError("wrong number of arguments: '\(name)' needs a value after it", at: token) }
    let arg = token
    if nextArg() {
      throw ConfigError("'\(name)' takes one argument; remove '\(val)'", at: token)
    }
    return arg
  }

  /// No further arguments on this line.
  mutating func noMoreArgs(for name: String? = nil) throws(ConfigError) {
    let name = name ?? val
    if nextArg() { throw ConfigError("'\(name)' takes no arguments here; remove '\(val)'", at: token) }
  }

  mutating func durationArg() throws(ConfigError) -> Duration {
    let arg = try singleArg()
    guard let duration = Duration(caddyfile: arg.text) else {
      throw ConfigError("'\(arg.text)' is not a duration; write e.g. 500ms, 10s, 5m, 1h or 1m30s", at: arg)
    }
    return duration
  }

  /// A duration greater than zero (timeouts).
  mutating func positiveDurationArg() throws(ConfigError) -> Duration {
    let name = val
    let duration = try durationArg()
    guard duration > .zero else { throw ConfigError("'\(name)' must be positive; write e.g. 30s", at: token) }
    return duration
  }

  mutating func sizeArg() throws(ConfigError) -> Int {
    let arg = try singleArg()
    guard let size = ByteSize.parse(arg.text) else {
      throw ConfigError("'\(arg.text)' is not a size; write e.g. 512, 16KB (1000 bytes each), 16KiB or 10MB", at: arg)
    }
    return size
  }

  mutating func intArg() throws(ConfigError) -> Int {
    let arg = try singleArg()
    guard let number = Int(arg.text) else {
      throw ConfigError("'\(arg.text)' is not a whole number; write digits, e.g. 8", at: arg)
    }
    return number
  }

  /// A port number, 1–65535.
  mutating func portArg() throws(ConfigError) -> Int {
    let name = val
    let port = try intArg()
    guard (1...65535).contains(port) else {
      throw ConfigError("'\(name)' \(port) is outside 1–65535; use a port number from 1 to 65535", at: token)
    }
    return port
  }

  /// For directives that take no block: an error at the `{` ending the current line, if there is one.
  func noBlock(_ directive: String) throws(ConfigError) {
    var probe = self
    while probe.nextArg() {}
    let next = probe.cursor + 1
    if next < tokens.count, tokens[next].isOpenBrace, probe.token.isOnSameLine(as: tokens[next]) {
      throw ConfigError("'\(directive)' takes no block; remove the '{ … }'", at: tokens[next])
    }
  }

  /// A whole number no smaller than `minimum`.
  mutating func intArg(atLeast minimum: Int) throws(ConfigError) -> Int {
    let name = val
    let number = try intArg()
    guard number >= minimum else { throw ConfigError("'\(name)' must be at least \(minimum) (got \(number))", at: token) }
    return number
  }

  /// A block that must hold nothing edge reads: a clear error on its first line, if any.
  mutating func rejectBlock(_ what: String) throws(ConfigError) {
    if nextBlock(nesting) {
      throw ConfigError("'\(val)' inside \(what) is not supported yet; remove it", at: token)
    }
  }
}
