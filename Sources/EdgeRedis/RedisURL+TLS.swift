extension RedisURL {
  /// How a `rediss://` connection trusts the server and proves itself: the URL's query options (see
  /// `RedisURL`). Every field unset means: the system's roots, the certificate must name `host`, no
  /// client certificate.
  public struct TLSOptions: Hashable, Sendable {
    /// `ca=`: a PEM file of the CAs to trust instead of the system's roots.
    public var caFile: String?
    /// `cert=`: a PEM client certificate (leaf first) for servers that require one.
    public var certificateFile: String?
    /// `key=`: the client certificate's unencrypted PEM key; nil: read from `certificateFile`.
    public var keyFile: String?
    /// `sni=`: the name sent as SNI and checked against the certificate; nil: the URL's host.
    public var serverName: String?
    /// `insecure=1`: accept any server certificate. Never the default; edge logs a warning.
    public var insecureSkipVerify: Bool

    public init(
      caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil,
      insecureSkipVerify: Bool = false
    ) {
      self.caFile = caFile
      self.certificateFile = certificateFile
      self.keyFile = keyFile
      self.serverName = serverName
      self.insecureSkipVerify = insecureSkipVerify
    }

    static let names = ["ca", "cert", "key", "sni", "insecure"]

    /// Parses `ca=…&cert=…` (the text after '?') of `url`; `tls` is whether the scheme was `rediss://`.
    init(query: Substring, url: String, tls: Bool) throws(RedisError) {
      self.init()
      var seen: Set<String> = []
      for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
        guard !pair.isEmpty else { throw .invalidURL(url, "an empty query option (a stray '?' or '&')") }
        guard let equals = pair.firstIndex(of: "=") else {
          throw .invalidURL(url, "the query option '\(pair)' has no value (write name=value)")
        }
        let name = String(pair[..<equals])
        guard Self.names.contains(name) else {
          throw .invalidURL(url, "unknown query option '\(name)' (known: \(Self.names.joined(separator: ", ")))")
        }
        guard tls else { throw .invalidURL(url, "the option '\(name)' needs rediss:// (TLS)") }
        guard seen.insert(name).inserted else { throw .invalidURL(url, "the option '\(name)' is given twice") }
        guard let value = RedisURL.percentDecoded(pair[pair.index(after: equals)...]), !value.isEmpty else {
          throw .invalidURL(url, "the option '\(name)' needs a (percent-encoded) value")
        }
        switch name {
        case "ca": caFile = value
        case "cert": certificateFile = value
        case "key": keyFile = value
        case "sni": serverName = value
        default:
          switch value {
          case "1", "true": insecureSkipVerify = true
          case "0", "false": insecureSkipVerify = false
          default: throw .invalidURL(url, "insecure= takes 1 or 0")
          }
        }
      }
      if keyFile != nil && certificateFile == nil { throw .invalidURL(url, "key= needs cert= (the client certificate)") }
    }

    /// The options as a query (`?ca=…&insecure=1`), or "" when none is set; for descriptions.
    var query: String {
      var pairs: [String] = []
      if let caFile { pairs.append("ca=" + Self.escaped(caFile)) }
      if let certificateFile { pairs.append("cert=" + Self.escaped(certificateFile)) }
      if let keyFile { pairs.append("key=" + Self.escaped(keyFile)) }
      if let serverName { pairs.append("sni=" + Self.escaped(serverName)) }
      if insecureSkipVerify { pairs.append("insecure=1") }
      return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }

    /// `%`, `&`, `#`, `=`, spaces and controls percent-encoded, so the text parses back to the same value.
    private static func escaped(_ value: String) -> String {
      var out = ""
      for byte in value.utf8 {
        if byte <= 0x20 || byte >= 0x7f || "%&#=+?".utf8.contains(byte) {
          out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        } else {
          out.unicodeScalars.append(Unicode.Scalar(byte))
        }
      }
      return out
    }
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
