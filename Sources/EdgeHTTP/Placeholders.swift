import EdgeConfig
import EdgeHTTP1

/// What `{…}` placeholders in a Caddyfile value refer to, for one request.
struct PlaceholderContext {
  let request: RequestHead
  let scheme: String
  let remoteIP: String
  /// The upstream chosen for this request (`header_up Host {upstream_hostport}`).
  var upstream: String?
  /// Inside `handle_errors`: the error being answered.
  var error: RequestError?
  /// Regexp groups of the matchers that matched: `name.1`, `name.group`.
  var captures = RegexCaptures()
  /// The client's address when a trusted proxy forwarded it; nil: `remoteIP`.
  var clientIP: String?
}

/// Caddy's request placeholders, the short forms and their `http.request.*` names: `{host}`,
/// `{hostport}`, `{uri}`, `{path}`, `{query}`, `{method}`, `{scheme}`, `{remote_host}` (also `{remote}`,
/// which is the peer's address without its port here), `{client_ip}` (the client a trusted proxy
/// forwarded, else the peer), `{header.Name}`, and `{upstream_hostport}`
/// in `header_up`, `{err.status_code}`, `{err.status_text}`, `{err.message}` in `handle_errors`, and
/// `{re.<name>.<group>}` for the groups of `path_regexp`/`header_regexp` matchers.
/// Anything else in braces is left as written (a JSON body stays a JSON body), as Caddy's
/// "replace known" does.
enum Placeholders {
  static func expand(_ text: String, _ context: PlaceholderContext) -> String {
    guard text.utf8.contains(UInt8(ascii: "{")) else { return text }
    var out = ""
    var rest = Substring(text)
    while let open = rest.firstIndex(of: "{") {
      out += rest[..<open]
      guard let close = rest[open...].firstIndex(of: "}") else { return out + rest[open...] }
      let name = rest[rest.index(after: open)..<close]
      if let value = value(of: name, context) {
        out += value
      } else {
        out += rest[open...close]
      }
      rest = rest[rest.index(after: close)...]
    }
    return out + rest
  }

  static func value(of name: Substring, _ context: PlaceholderContext) -> String? {
    let request = context.request
    let target = request.path
    // The prefixed families first: one comparison instead of the whole switch below.
    if name.hasPrefix("re.") { return context.captures[name.dropFirst(3)] ?? "" }
    if name.hasPrefix("header.") { return request.headers[String(name.dropFirst(7))] ?? "" }
    switch name {
    case "host", "http.request.host": return request.host.map(ListenerRoutes.hostOnly) ?? ""
    case "hostport", "http.request.hostport": return request.host ?? ""
    case "uri", "http.request.uri": return target
    case "path", "http.request.uri.path": return String(OriginTarget.split(target).path)
    case "query", "http.request.uri.query": return OriginTarget.split(target).query.map(String.init) ?? ""
    case "method", "http.request.method": return request.method
    case "scheme", "http.request.scheme": return context.scheme
    case "remote_host", "remote", "http.request.remote.host": return context.remoteIP
    case "client_ip", "http.vars.client_ip": return context.clientIP ?? context.remoteIP
    case "upstream_hostport", "http.reverse_proxy.upstream.hostport": return context.upstream
    case "err.status_code", "http.error.status_code": return context.error.map { String($0.status) }
    case "err.status_text", "http.error.status_text": return context.error.map { StatusText.reason($0.status) }
    case "err.message", "http.error.message": return context.error.map(\.message)
    default:
      for prefix in ["header.", "http.request.header."] where name.hasPrefix(prefix) {
        return request.headers[String(name.dropFirst(prefix.count))] ?? ""
      }
      for prefix in ["re.", "http.regexp."] where name.hasPrefix(prefix) {
        return context.captures[name.dropFirst(prefix.count)] ?? ""
      }
      return nil
    }
  }
}

extension HTTPHeaders {
  /// Applies `operations` with their values' placeholders filled in for this request.
  mutating func apply(_ operations: [HeaderOperation], _ context: PlaceholderContext) {
    for var operation in operations {
      operation.value = Placeholders.expand(operation.value, context)
      apply([operation])
    }
  }
}
