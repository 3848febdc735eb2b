/// Parsing site addresses as written in a Caddyfile.
extension SiteAddress {
  /// Parses `example.com`, `example.com:8080`, `http://example.com`, `https://example.com:8443`, `:8080`,
  /// `http://:8080`, `*.example.com`, `127.0.0.1:8080`, `[::1]:8080`, `localhost`, `example.com/api/*`.
  /// The error message says what is wrong; the caller adds the position.
  public init(parsing text: String) throws(ConfigError) {
    guard !text.isEmpty else { throw ConfigError("empty site address; write a host, ':port' or both") }
    var rest = Substring(text)
    var scheme: String?
    if let separator = rest.firstRange(of: "://") {
      let written = rest[..<separator.lowerBound].lowercased()
      guard written == "http" || written == "https" else {
        throw ConfigError("unsupported scheme '\(written)' in site address '\(text)'; use http:// or https://")
      }
      scheme = written
      rest = rest[separator.upperBound...]
    }
    var path: String?
    if let slash = rest.firstIndex(of: "/") {
      path = String(rest[slash...])
      rest = rest[..<slash]
    }
    let (host, portText) = try Self.splitHostPort(rest, in: text)
    var port: Int?
    if let portText {
      guard let number = Int(portText), (1...65535).contains(number) else {
        throw ConfigError("invalid port '\(portText)' in site address '\(text)'; use a number from 1 to 65535")
      }
      port = number
    }
    if let host {
      guard Self.isValidHost(host) else {
        throw ConfigError(
          "invalid host '\(host)' in site address '\(text)'; use a name, a '*.' wildcard or an IP address")
      }
    }
    if scheme == nil && host == nil && port == nil {
      throw ConfigError("site address '\(text)' names no host or port; write e.g. 'example.com' or ':8080'")
    }
    self.init(scheme: scheme, host: host, port: port, path: path, original: text)
  }

  /// `host:port`, `[v6]:port`, `host`, `:port` → (host or nil, port text or nil).
  static func splitHostPort(_ text: Substring, in original: String) throws(ConfigError) -> (String?, String?) {
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else {
        throw ConfigError("missing ']' in IPv6 address '\(original)'; write it as [::1]:8080")
      }
      let host = String(text[text.index(after: text.startIndex)..<close])
      let after = text[text.index(after: close)...]
      if after.isEmpty { return (host, nil) }
      guard after.hasPrefix(":") else {
        throw ConfigError("unexpected '\(after)' after IPv6 address in '\(original)'; write [::1]:8080")
      }
      return (host, String(after.dropFirst()))
    }
    guard let colon = text.lastIndex(of: ":") else { return (text.isEmpty ? nil : String(text), nil) }
    if text[..<colon].contains(":") {
      throw ConfigError("IPv6 address '\(original)' needs brackets; write it as [\(text)] or [addr]:port")
    }
    let host = text[..<colon]
    return (host.isEmpty ? nil : String(host), String(text[text.index(after: colon)...]))
  }

  /// Letters, digits, `-`, `_`, `.`, a leading `*.` label, or an IPv6 literal (hex digits and colons).
  static func isValidHost(_ host: String) -> Bool {
    if host.contains(":") { return host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." || $0 == "%" } }
    var labels = Substring(host)
    if labels == "*" { return true }
    if labels.hasPrefix("*.") { labels = labels.dropFirst(2) }
    guard !labels.isEmpty else { return false }
    return labels.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
  }
}
