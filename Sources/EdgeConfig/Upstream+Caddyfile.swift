/// Parsing `reverse_proxy` upstream addresses.
extension Upstream {
  /// Parses `host:port`, `http://host:port`, `https://host[:port]` (port 443 when left out),
  /// `localhost:9000`, `:9000` (localhost), `[::1]:9000`, or a host alone (port 80). Other schemes are
  /// refused. The caller adds the position.
  public init(parsing text: String) throws(ConfigError) {
    var rest = Substring(text)
    var scheme: String?
    if let separator = rest.firstRange(of: "://") {
      let written = rest[..<separator.lowerBound].lowercased()
      guard written == "http" || written == "https" else {
        throw ConfigError("unsupported upstream scheme '\(written)' in '\(text)'; write host:port, http://host:port or https://host:port")
      }
      scheme = written
      rest = rest[separator.upperBound...]
    }
    if rest.contains("/") {
      throw ConfigError("upstream '\(text)' has a path; upstreams are host:port only (use a rewrite later)")
    }
    guard !rest.isEmpty else { throw ConfigError("empty upstream address; write host:port") }
    let (host, portText) = try SiteAddress.splitHostPort(rest, in: text)
    var port = scheme == "https" ? 443 : 80
    if let portText {
      guard let number = Int(portText), (1...65535).contains(number) else {
        throw ConfigError("invalid port '\(portText)' in upstream '\(text)'; use a number from 1 to 65535")
      }
      port = number
    }
    let name = host ?? "localhost"
    guard SiteAddress.isValidHost(name), !name.contains("*") else {
      throw ConfigError("invalid upstream host '\(name)' in '\(text)'; use a name or an IP address")
    }
    self.init(host: name, port: port, scheme: scheme)
  }
}
