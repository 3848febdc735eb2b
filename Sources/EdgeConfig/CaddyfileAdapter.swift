import EdgeCaddyfile
import Foundation

/// Turns a Caddyfile into an `EdgeConfig`. Syntax (blocks, snippets, imports, `{$ENV}`) is
/// `EdgeCaddyfile`'s job; this reads the global options and the site directives edge implements:
/// `respond`, `reverse_proxy` and `request_body`, each with an optional inline path matcher.
/// Caddy directives and options edge does not have yet are refused by name ("not supported yet"),
/// anything else is "unknown", with a suggestion for typos.
public enum CaddyfileAdapter {
  /// Adapts Caddyfile `text` read from `filename` (used in error positions and for relative imports).
  public static func adapt(
    text: String, filename: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(ConfigError) -> EdgeConfig {
    let blocks: [ServerBlock]
    do {
      blocks = try Parser.parse(text: text, file: filename, environment: environment)
    } catch {
      throw ConfigError(error)
    }
    return try adapt(blocks)
  }

  /// Reads and adapts the Caddyfile at `path`.
  public static func adapt(contentsOf path: String) throws(ConfigError) -> EdgeConfig {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ConfigError("cannot read '\(path)': \(error.localizedDescription); check the path and permissions")
    }
    return try adapt(text: text, filename: path)
  }

  /// Adapts already parsed blocks.
  public static func adapt(_ blocks: [ServerBlock]) throws(ConfigError) -> EdgeConfig {
    var config = EdgeConfig()
    for (index, block) in blocks.enumerated() {
      if block.isGlobalOptions {
        precondition(index == 0, "the parser only accepts a global options block first")
        config.global = try GlobalOptionsAdapter.adapt(block)
      } else {
        config.sites.append(try site(from: block))
      }
    }
    return config
  }

  static func site(from block: ServerBlock) throws(ConfigError) -> Site {
    var addresses: [SiteAddress] = []
    for key in block.keys {
      do {
        addresses.append(try SiteAddress(parsing: key.text))
      } catch {
        throw ConfigError(error.message, at: key)
      }
    }
    let named = try NamedMatcher.definitions(in: block.segments)
    return try NamedMatcher.using(named) { () throws(ConfigError) -> Site in
      try site(block, addresses: addresses)
    }
  }

  private static func site(_ block: ServerBlock, addresses: [SiteAddress]) throws(ConfigError) -> Site {
    var routes: [Route] = []
    var tls: SiteTLS?
    var errors: [ErrorRoutes] = []
    var log: SiteLog?
    for segment in block.segments where !segment.first.text.hasPrefix("@") {
      if segment.first.text == "log" {
        if log != nil { throw ConfigError("'log' is written twice in this site; merge them", at: segment.first) }
        var d = segment.dispenser
        _ = d.next()
        log = try LogDirective.parse(&d)
        continue
      }
      if segment.first.text == "handle_errors" {
        var d = segment.dispenser
        _ = d.next()
        errors.append(try FileDirectives.handleErrors(&d))
        continue
      }
      if segment.first.text == "tls" {
        if tls != nil { throw ConfigError("'tls' is written twice in this site; merge them", at: segment.first) }
        var d = segment.dispenser
        _ = d.next()
        tls = try TLSDirective.parse(&d)
        continue
      }
      routes.append(try route(from: segment))
    }
    // Blocks for given statuses are tried before a catch-all, whatever the written order.
    let ordered = errors.filter { !$0.statuses.isEmpty } + errors.filter(\.statuses.isEmpty)
    return Site(
      addresses: addresses, routes: RouteOrder.sorted(routes), tls: tls, errors: ordered.isEmpty ? nil : ordered,
      log: log, location: SourceLocation(block.keys[0]))
  }

  static func route(from segment: Segment) throws(ConfigError) -> Route {
    var d = segment.dispenser
    _ = d.next()
    let name = segment.first
    switch name.text {
    case "respond": return try RespondDirective.parse(&d)
    case "reverse_proxy": return try ReverseProxyDirective.parse(&d)
    case "request_body": return try RequestBodyDirective.parse(&d)
    case "header": return try HeaderDirective.parse(&d)
    case "root": return try FileDirectives.root(&d)
    case "file_server": return try FileDirectives.fileServer(&d)
    case "handle": return try FileDirectives.group(&d, stripping: false)
    case "handle_path": return try FileDirectives.group(&d, stripping: true)
    case "redir": return try FileDirectives.redirect(&d)
    case "rewrite": return try RewriteDirectives.rewrite(&d)
    case "uri": return try RewriteDirectives.uri(&d)
    case "route": return try RewriteDirectives.route(&d)
    case "abort": return try RewriteDirectives.abort(&d)
    case "metrics": return try RewriteDirectives.metrics(&d)
    case "try_files": return try RewriteDirectives.tryFiles(&d)
    case "encode": return try EncodeDirective.parse(&d)
    case "basic_auth", "basicauth": return try BasicAuthDirective.parse(&d)
    case "error": return try RewriteDirectives.error(&d)
    case "handle_errors", "log": throw ConfigError("'\(name.text)' belongs to the site block, not inside another directive", at: name)
    case let other:
      throw .unrecognized(
        "directive", other, caddyOnly: DirectiveCatalog.notYetSupported.contains(other),
        candidates: DirectiveCatalog.supported + DirectiveCatalog.notYetSupported, at: name)
    }
  }

  /// The inline matcher of a directive, if its first argument is one: a path starting with `/`, or `*`
  /// (every request, same as none). Quoted arguments are never matchers. Named matchers are refused.
  static func matcher(_ d: inout Dispenser) throws(ConfigError) -> (present: Bool, matcher: RequestMatcher?) {
    let saved = d
    guard d.nextArg() else { return (false, nil) }
    let arg = d.token
    if !arg.isQuoted {
      if arg.text == "*" { return (true, nil) }
      if arg.text.hasPrefix("/") { return (true, RequestMatcher(paths: [arg.text])) }
      if arg.text.hasPrefix("@") {
        guard let named = NamedMatcher.current?[arg.text] else {
          throw ConfigError("matcher '\(arg.text)' is not defined in this site; define it with '\(arg.text) { … }'", at: arg)
        }
        return (true, named)
      }
    }
    d = saved
    return (false, nil)
  }
}
