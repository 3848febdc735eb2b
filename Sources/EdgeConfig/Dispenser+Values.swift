import EdgeCaddyfile

/// Typed argument readers for directive parsers; each error points at the offending token.
extension Dispenser {
  /// Exactly one more argument on this line.
  mutating func singleArg() throws(ConfigError) -> Token {
    let name = val
    guard nextArg() else { throw ConfigError(argErr()) }
    let arg = token
    if nextArg() {
      throw ConfigError("'\(name)' takes one argument; remove '\(val)'", at: token)
    }
    return arg
  }

  /// No further arguments on this line.
  mutating func noMoreArgs() throws(ConfigError) {
    let name = val
    if nextArg() { throw ConfigError("'\(name)' takes no arguments here; remove '\(val)'", at: token) }
  }

  mutating func durationArg() throws(ConfigError) -> Duration {
    let arg = try singleArg()
    guard let duration = Duration(caddyfile: arg.text) else {
      throw ConfigError("'\(arg.text)' is not a duration; write e.g. 500ms, 10s, 5m, 1h or 1m30s", at: arg)
    }
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

  /// A block that must hold nothing edge reads: a clear error on its first line, if any.
  mutating func rejectBlock(_ what: String) throws(ConfigError) {
    if nextBlock(nesting) {
      throw ConfigError("'\(val)' inside \(what) is not supported yet; remove it", at: token)
    }
  }
}
