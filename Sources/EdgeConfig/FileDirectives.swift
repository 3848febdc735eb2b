import EdgeCaddyfile

/// `root [<matcher>] <path>`, `file_server [<matcher>] { … }`, `handle`, `handle_path` and `redir`.
enum FileDirectives {
  /// `root [<matcher>] <path>`: Caddy writes `root * /srv` (the `*` is the every-request matcher).
  static func root(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    let path = try d.singleArg()
    return Route(matcher: matcher, handler: .root(path.text), location: location)
  }

  static func fileServer(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    if d.nextArg() {
      if d.val == "browse" { throw ConfigError("'file_server browse' (directory listings) is not supported yet", at: d.token) }
      throw ConfigError("unexpected '\(d.val)' after file_server; options go in its block", at: d.token)
    }
    var config = FileServerConfig()
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "root": config.root = try d.singleArg().text
      case "index": config.indexNames = d.remainingArgs()
      case "hide": config.hide = d.remainingArgs()
      case "precompressed":
        let encodings = d.remainingArgTokens()
        for encoding in encodings where !["br", "zstd", "gzip"].contains(encoding.text) {
          throw ConfigError("unknown precompressed encoding '\(encoding.text)'; use br, zstd or gzip", at: encoding)
        }
        config.precompressed = encodings.isEmpty ? ["br", "zstd", "gzip"] : encodings.map(\.text)
      case "browse", "canonical_uris", "pass_thru", "status", "disable_canonical_uris", "etag_file_extensions", "fs":
        throw .unrecognized("file_server option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized(
          "file_server option", d.val, caddyOnly: false, candidates: ["root", "index", "hide", "precompressed"], at: d.token)
      }
    }
    return Route(matcher: matcher, handler: .fileServer(config), location: location)
  }

  /// `handle [<matcher>] { … }` and `handle_path <prefix>* { … }`: the block's directives become the
  /// group's routes, sorted in directive order like a site's.
  static func group(_ d: inout Dispenser, stripping: Bool) throws(ConfigError) -> Route {
    let directive = d.token
    let location = SourceLocation(directive)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    var stripPrefix: String?
    if stripping {
      guard matcher?.name == nil, let paths = matcher?.paths, paths.count == 1, let path = paths.first, path.hasPrefix("/")
      else {
        throw ConfigError("'handle_path' needs a path prefix such as /static/*", at: directive)
      }
      stripPrefix = path.hasSuffix("*") ? String(path.dropLast()) : path
      if stripPrefix!.hasSuffix("/") { stripPrefix!.removeLast() }
    }
    if d.nextArg() { throw ConfigError("unexpected '\(d.val)' after \(directive.text); its routes go in a block", at: d.token) }
    var routes: [Route] = []
    for segment in d.nestedSegments() {
      if segment.first.text == "tls" { throw ConfigError("'tls' belongs to the site, not inside \(directive.text)", at: segment.first) }
      routes.append(try CaddyfileAdapter.route(from: segment))
    }
    return Route(
      matcher: matcher, handler: .group(RouteGroup(routes: RouteOrder.sorted(routes), stripPrefix: stripPrefix)),
      location: location)
  }

  /// `redir [<matcher>] <to> [<code>|permanent|temporary|html]`.
  static func redirect(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    let args = d.remainingArgTokens()
    guard let to = args.first, args.count <= 2 else {
      throw ConfigError("'redir' takes a target and an optional code: 'redir https://example.com{uri} permanent'", at: d.token)
    }
    var status = 302
    if args.count == 2 {
      switch args[1].text {
      case "permanent": status = 301
      case "temporary": status = 302
      case "html": throw ConfigError("'redir … html' is not supported yet", at: args[1])
      case let code:
        guard let number = Int(code), (300...399).contains(number) else {
          throw ConfigError("'\(code)' is not a redirect code; use 300–399, permanent or temporary", at: args[1])
        }
        status = number
      }
    }
    return Route(matcher: matcher, handler: .redirect(Redirect(to: to.text, status: status)), location: location)
  }
}
