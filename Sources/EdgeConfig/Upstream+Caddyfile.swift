/// Parsing `reverse_proxy` upstream addresses.
extension Upstream {
  /// Parses `host:port`, `http://host:port`, `localhost:9000`, `:9000` (localhost), `[::1]:9000`, or a host
  /// alone (port 80). `https://` and other schemes are refused for now. The caller adds the position.
  public init(parsing text: String) throws(ConfigError) {
    var rest = Substring(text)
    if let separator = rest.firstRange(of: "://") {
      let scheme = rest[..<separator.lowerBound].lowercased()
      if scheme == "https" {
        throw ConfigError("https upstreams are not supported yet; use http://\(rest[separator.upperBound...])")
      }
      guard scheme == "http" else {
        throw ConfigError("unsupported upstream scheme '\(scheme)' in '\(text)'; write host:port or http://host:port")
      }
      rest = rest[separator.upperBound...]
    }
    if rest.contains("/") {
      throw ConfigError("upstream '\(text)' has a path; upstreams are host:port only (use a rewrite later)")
    }
    guard !rest.isEmpty else { throw ConfigError("empty upstream address; write host:port") }
    let (host, portText) = try SiteAddress.splitHostPort(rest, in: text)
    var port = 80
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
    self.init(host: name, port: port)
  }
}
