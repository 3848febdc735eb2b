import EdgeCaddyfile

/// `encode [<matcher>] [<formats…>] { zstd [<level>]; gzip [<level>]; prefer <formats…>; minimum_length <n> }`.
///
/// As in Caddy, the server's order of preference is the formats named in the block, then those on the
/// directive's line; `encode` with neither is `encode zstd gzip`; a format given twice is an error.
/// `prefer` (edge's, after Caddy's JSON field of that name) puts the formats it names first, in its order.
enum EncodeDirective {
  static let formats = ["zstd", "gzip"]

  static func parse(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    var config = EncodeConfig(formats: [])
    var inline: [Token] = []
    for token in d.remainingArgTokens() {
      try check(token)
      inline.append(token)
    }
    var block: [Token] = []
    var prefer: [Token] = []
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "minimum_length": config.minimumLength = try d.intArg(atLeast: 0)
      case "gzip":
        block.append(d.token)
        if d.nextArg() { config.gzipLevel = try gzipLevel(d.token) }
        try d.noMoreArgs(for: "gzip")
      case "zstd":
        block.append(d.token)
        if d.nextArg() { config.zstdLevel = try zstdLevel(d.token) }
        try d.noMoreArgs(for: "zstd")
      case "prefer":
        let directive = d.token
        prefer = d.remainingArgTokens()
        if prefer.isEmpty { throw ConfigError("'prefer' needs the formats in order, e.g. prefer gzip zstd", at: directive) }
        for token in prefer { try check(token) }
      case "br", "brotli":
        try check(d.token)
      case "match":
        throw .unrecognized("encode option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized(
          "encode option", d.val, caddyOnly: false, candidates: formats + ["prefer", "minimum_length", "match"], at: d.token)
      }
    }
    var seen: Set<String> = []
    for token in block + inline {
      guard seen.insert(token.text).inserted else {
        throw ConfigError("encode format '\(token.text)' is given twice; name each format once", at: token)
      }
      config.formats.append(token.text)
    }
    if config.formats.isEmpty { config.formats = formats }
    config.formats = try ordered(config.formats, prefer: prefer)
    return Route(matcher: matcher, handler: .encode(config), location: location)
  }

  /// `formats` with those `prefer` names first, in its order; each must be enabled and named once.
  private static func ordered(_ formats: [String], prefer: [Token]) throws(ConfigError) -> [String] {
    var first: [String] = []
    for token in prefer {
      guard formats.contains(token.text) else {
        throw ConfigError(
          "'prefer' names '\(token.text)', which this encode does not enable; enable it too, e.g. encode \(token.text) …",
          at: token)
      }
      guard !first.contains(token.text) else {
        throw ConfigError("'\(token.text)' is given twice in prefer; name each format once", at: token)
      }
      first.append(token.text)
    }
    return first + formats.filter { !first.contains($0) }
  }

  /// A format edge can produce; Brotli is not one (Caddy's own build has no Brotli encoder either).
  private static func check(_ token: Token) throws(ConfigError) {
    switch token.text {
    case "zstd", "gzip": return
    case "br", "brotli":
      throw ConfigError("encode format '\(token.text)' (Brotli) is not supported; use zstd or gzip", at: token)
    default:
      let hint = DirectiveCatalog.suggestion(for: token.text, among: formats)
      throw ConfigError("unknown encode format '\(token.text)'\(hint); use zstd or gzip", at: token)
    }
  }

  /// `gzip <level>`: 1 (fastest) to 9 (smallest).
  private static func gzipLevel(_ token: Token) throws(ConfigError) -> Int {
    guard let level = Int(token.text), (1...9).contains(level) else {
      throw ConfigError("gzip level '\(token.text)' is not a whole number from 1 (fastest) to 9 (smallest)", at: token)
    }
    return level
  }

  /// `zstd <level>`: one of Caddy's level names.
  private static func zstdLevel(_ token: Token) throws(ConfigError) -> String {
    guard EncodeConfig.zstdLevelNumber(token.text) != nil else {
      throw ConfigError("zstd level '\(token.text)' is not one of fastest, default, better or best", at: token)
    }
    return token.text
  }
}
