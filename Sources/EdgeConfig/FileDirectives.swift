import EdgeCaddyfile

/// `root [<matcher>] <path>`, `file_server [<matcher>] { … }`, `handle`, `handle_path` and `redir`.
enum FileDirectives {
  /// `root [<matcher>] <path>`: Caddy writes `root * /srv` (the `*` is the every-request matcher).
  static func root(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    var probe = d
    guard probe.nextArg() else { throw ConfigError("'root' needs a directory, e.g. 'root * /srv/www'", at: d.token) }
    let path = try d.singleArg(for: "root")
    try d.noBlock("root")
    return Route(matcher: matcher, handler: .root(path.text), location: location)
  }

  /// `file_server [<matcher>] [browse] { root <path>; index <names…>; hide <names…>; precompressed [<formats…>];
  /// browse }`. A browse template file and browse's own options are not supported yet.
  static func fileServer(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    var config = FileServerConfig()
    if d.nextArg() {
      guard d.val == "browse" else {
        throw ConfigError("unexpected '\(d.val)' after file_server; options go in its block", at: d.token)
      }
      config.browse = true
      if d.nextArg() { throw ConfigError("unexpected '\(d.val)' after file_server browse; options go in its block", at: d.token) }
    }
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
      case "browse":
        config.browse = true
        if d.nextArg() {
          throw ConfigError(
            "a browse template file ('\(d.val)') is not supported yet; write 'browse' alone for edge's listing", at: d.token)
        }
        try d.rejectBlock("browse")
      case "canonical_uris", "pass_thru", "status", "disable_canonical_uris", "etag_file_extensions", "fs":
        throw .unrecognized("file_server option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized(
          "file_server option", d.val, caddyOnly: false, candidates: ["root", "index", "hide", "precompressed", "browse"], at: d.token)
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
        var probe = d
        if probe.nextArg() {
          throw ConfigError("'handle_path' needs a path prefix starting with /, such as /static/*; got '\(probe.val)'", at: probe.token)
        }
        throw ConfigError("'handle_path' needs a path prefix such as /static/*", at: directive)
      }
      stripPrefix = path.hasSuffix("*") ? String(path.dropLast()) : path
      if stripPrefix!.hasSuffix("/") { stripPrefix!.removeLast() }
    }
    if d.nextArg() { throw ConfigError("unexpected '\(d.val)' after \(directive.text); its routes go in a block", at: d.token) }
    var routes: [Route] = []
    for segment in d.nestedSegments() {
      if segment.first.text == "tls" { throw ConfigError("'tls' belongs to the site, not inside \(directive.text)", at: segment.first) }
      if segment.first.text.hasPrefix("@") { throw matcherInside(directive.text, segment.first) }
      routes.append(try CaddyfileAdapter.route(from: segment))
    }
    return Route(
      matcher: matcher, handler: .group(RouteGroup(routes: RouteOrder.sorted(routes), stripPrefix: stripPrefix)),
      location: location)
  }

  /// `handle_errors [<codes…>] { … }`: the block's directives, sorted like a site's.
  static func handleErrors(_ d: inout Dispenser) throws(ConfigError) -> ErrorRoutes {
    let directive = d.token
    var statuses: [String] = []
    for token in d.remainingArgTokens() {
      guard ErrorRoutes.ranges([token.text]) != nil else {
        throw ConfigError(
          "'\(token.text)' is not an error status; handle_errors takes codes such as 404 or classes such as 5xx",
          at: token)
      }
      statuses.append(token.text.lowercased())
    }
    var routes: [Route] = []
    for segment in d.nestedSegments() {
      if segment.first.text == "tls" { throw ConfigError("'tls' belongs to the site, not inside handle_errors", at: segment.first) }
      if segment.first.text.hasPrefix("@") { throw matcherInside("handle_errors", segment.first) }
      routes.append(try CaddyfileAdapter.route(from: segment))
    }
    if routes.isEmpty {
      throw ConfigError("handle_errors needs a block of directives, e.g. handle_errors { respond \"{err.status_code}\" }", at: directive)
    }
    return ErrorRoutes(statuses: statuses, routes: RouteOrder.sorted(routes), location: SourceLocation(directive))
  }

  /// A named matcher defined inside a `handle`/`route` block (Caddy scopes it to the block; edge does not yet).
  static func matcherInside(_ directive: String, _ name: Token) -> ConfigError {
    ConfigError("defining matcher '\(name.text)' inside \(directive) is not supported yet; define it at the site level", at: name)
  }

  /// `redir [<matcher>] <to> [<code>|permanent|temporary|html]`.
  static func redirect(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    let args = d.remainingArgTokens()
    guard let to = args.first, args.count <= 2 else {
      let extra = args.count > 2 ? "; remove '\(args[2].text)'" : ""
      throw ConfigError(
        "'redir' takes a target and an optional code: 'redir https://example.com{uri} permanent'\(extra)",
        at: args.count > 2 ? args[2] : d.token)
    }
    try d.noBlock("redir")
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

/// `rewrite`, `uri`, `route`, `try_files`, `abort` and `error`.
enum RewriteDirectives {
  static func rewrite(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    // One argument is the target (`rewrite /index.html`); with two, the first is the matcher.
    var probe = d
    let matcher = probe.remainingArgTokens().count == 1 ? nil : try CaddyfileAdapter.matcher(&d).matcher
    probe = d
    guard probe.nextArg() else {
      throw ConfigError("'rewrite' needs a target, e.g. 'rewrite /index.html' or 'rewrite /old/* /new{uri}'", at: d.token)
    }
    let to = try d.singleArg(for: "rewrite")
    try d.noBlock("rewrite")
    guard to.text.hasPrefix("/") || to.text.hasPrefix("?") || to.text.hasPrefix("{") else {
      throw ConfigError("rewrite target '\(to.text)' must start with / or ? (a path and/or a query)", at: to)
    }
    return Route(matcher: matcher, handler: .rewrite(URIRewrite(.to, to.text)), location: location)
  }

  static func uri(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    let args = d.remainingArgTokens()
    guard let operation = args.first else {
      throw ConfigError("'uri' needs an operation: strip_prefix, strip_suffix or replace", at: d.token)
    }
    try d.noBlock("uri")
    switch (operation.text, args.count) {
    case ("strip_prefix", 2): return Route(matcher: matcher, handler: .rewrite(URIRewrite(.stripPrefix, args[1].text)), location: location)
    case ("strip_suffix", 2): return Route(matcher: matcher, handler: .rewrite(URIRewrite(.stripSuffix, args[1].text)), location: location)
    case ("replace", 3):
      return Route(matcher: matcher, handler: .rewrite(URIRewrite(.replace, args[1].text, with: args[2].text)), location: location)
    case ("strip_prefix", _), ("strip_suffix", _):
      throw ConfigError("'uri \(operation.text)' takes one value", at: operation)
    case ("replace", _):
      throw ConfigError("'uri replace' takes a value to find and its replacement (a limit is not supported yet)", at: operation)
    case ("path_regexp", _), ("query", _):
      throw ConfigError("'uri \(operation.text)' is not supported yet", at: operation)
    default:
      let hint = DirectiveCatalog.suggestion(for: operation.text, among: ["strip_prefix", "strip_suffix", "replace"])
      throw ConfigError("unknown uri operation '\(operation.text)'\(hint); use strip_prefix, strip_suffix or replace", at: operation)
    }
  }

  /// `route [<matcher>] { … }`: the directives inside keep their written order.
  static func route(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let directive = d.token
    let location = SourceLocation(directive)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    if d.nextArg() { throw ConfigError("unexpected '\(d.val)' after route; its directives go in a block", at: d.token) }
    var routes: [Route] = []
    for segment in d.nestedSegments() {
      if segment.first.text == "tls" { throw ConfigError("'tls' belongs to the site, not inside route", at: segment.first) }
      if segment.first.text.hasPrefix("@") { throw FileDirectives.matcherInside("route", segment.first) }
      routes.append(try CaddyfileAdapter.route(from: segment))
    }
    return Route(matcher: matcher, handler: .route(RouteGroup(routes: routes)), location: location)
  }

  /// `try_files [<matcher>] <files…>`: `{path}` and the other placeholders allowed; a name ending in `/`
  /// is a directory. `=404`-style status arguments are not supported yet.
  static func tryFiles(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    var probe = d
    let matcher = probe.remainingArgTokens().count == 1 ? nil : try CaddyfileAdapter.matcher(&d).matcher
    let files = d.remainingArgTokens()
    guard !files.isEmpty else { throw ConfigError("'try_files' needs at least one file, e.g. try_files {path} /index.html", at: d.token) }
    for file in files where file.text.hasPrefix("=") {
      throw ConfigError("try_files status '\(file.text)' is not supported yet", at: file)
    }
    if d.nextBlock(d.nesting) { throw ConfigError("try_files options (policy) are not supported yet", at: d.token) }
    return Route(matcher: matcher, handler: .tryFiles(files.map(\.text)), location: location)
  }

  static func abort(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    try d.noMoreArgs(for: "abort")
    try d.noBlock("abort")
    return Route(matcher: matcher, handler: .abort, location: location)
  }

  /// `metrics [<matcher>] { disable_openmetrics }`: the node's metrics at this route (Caddy's option is
  /// accepted and changes nothing: edge always writes the plain text format).
  static func metrics(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    try d.noMoreArgs(for: "metrics")
    let level = d.nesting
    while d.nextBlock(level) {
      guard d.val == "disable_openmetrics" else {
        throw .unrecognized("metrics option", d.val, caddyOnly: false, candidates: ["disable_openmetrics"], at: d.token)
      }
      try d.noMoreArgs(for: "disable_openmetrics")
    }
    return Route(matcher: matcher, handler: .metrics, location: location)
  }

  /// `error [<matcher>] [<message>] <status>` (a status alone, or a message and a status).
  static func error(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    let args = d.remainingArgTokens()
    let usage = "'error' takes an optional message and a status from 400 to 599, e.g. error \"gone\" 410"
    guard (1...2).contains(args.count) else {
      guard args.count > 2 else { throw ConfigError(usage, at: d.token) }
      throw ConfigError("\(usage); remove '\(args[2].text)' (quote a message with spaces)", at: args[2])
    }
    guard let code = Int(args[args.count - 1].text), (400...599).contains(code) else {
      throw ConfigError("'\(args[args.count - 1].text)' is not an error status; \(usage)", at: args[args.count - 1])
    }
    try d.noBlock("error")
    return Route(
      matcher: matcher, handler: .error(ErrorResponse(status: code, message: args.count == 2 ? args[0].text : "")),
      location: location)
  }
}
