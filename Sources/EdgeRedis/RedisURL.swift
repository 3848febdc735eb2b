/// Where a Redis server is and how to log in: `redis://[user[:password]@]host[:port][/db]`, or
/// `rediss://…[?option=value&…]` for TLS. User and password may be percent-encoded (`?` and `#` in a
/// password must be); `redis://:password@host` gives a password alone (AUTH password),
/// `redis://user:password@host` an ACL user (AUTH user password). IPv6 hosts go in brackets
/// (`redis://[::1]:6380`). Port defaults to 6379, db to 0.
///
/// `rediss://` verifies the server's certificate against the system's roots and checks that it names
/// `host` (a DNS name, or an IP address in an iPAddress entry). Its options (values percent-decoded):
///
/// - `ca=/path/ca.pem`: trust the CAs in this PEM file instead of the system's roots.
/// - `cert=/path/client.pem`: present this client certificate (mutual TLS, `tls-auth-clients yes`).
/// - `key=/path/client.key`: the certificate's private key (unencrypted PEM); default: read from `cert`.
/// - `sni=name`: the name sent as SNI and checked against the certificate instead of `host`, for a server
///   reached by IP address or through a tunnel.
/// - `insecure=1`: accept any certificate. Anyone on the path can then read and change the traffic:
///   never the default, for tests only, and logged as a warning by edge.
///
/// Example: `rediss://:s3cret@10.0.0.7:6380/1?ca=/etc/edge/redis-ca.pem&sni=redis.internal`.
public struct RedisURL: Hashable, Sendable, CustomStringConvertible {
  public var host: String
  public var port: Int
  public var user: String?
  public var password: String?
  public var database: Int
  /// `rediss://`: TLS, with `tlsOptions`.
  public var tls: Bool
  /// The `rediss://` query options; all unset for `redis://`.
  public var tlsOptions: TLSOptions

  public init(
    host: String, port: Int = 6379, user: String? = nil, password: String? = nil, database: Int = 0, tls: Bool = false,
    tlsOptions: TLSOptions = TLSOptions()
  ) {
    self.host = host
    self.port = port
    self.user = user
    self.password = password
    self.database = database
    self.tls = tls
    self.tlsOptions = tlsOptions
  }

  public init(parsing text: String) throws(RedisError) {
    var rest: Substring
    if text.hasPrefix("redis://") {
      tls = false
      rest = text.dropFirst("redis://".count)
    } else if text.hasPrefix("rediss://") {
      tls = true
      rest = text.dropFirst("rediss://".count)
    } else {
      throw .invalidURL(text, "the scheme must be redis:// or rediss://")
    }
    if rest.contains("#") { throw .invalidURL(text, "a fragment (#) is not supported") }
    tlsOptions = TLSOptions()
    if let question = rest.firstIndex(of: "?") {
      tlsOptions = try TLSOptions(query: rest[rest.index(after: question)...], url: text, tls: tls)
      rest = rest[..<question]
    }

    // The db path is digits, so the last '@' ends the user information even if a password holds '@' or '/'.
    var hostPart = rest
    user = nil
    password = nil
    if let at = rest.lastIndex(of: "@") {
      let info = rest[..<at]
      hostPart = rest[rest.index(after: at)...]
      let name: Substring
      if let colon = info.firstIndex(of: ":") {
        name = info[..<colon]
        guard let secret = Self.percentDecoded(info[info.index(after: colon)...]) else {
          throw .invalidURL(text, "bad percent-encoding in the password")
        }
        password = secret.isEmpty ? nil : secret
      } else {
        name = info
      }
      guard let decoded = Self.percentDecoded(name) else { throw .invalidURL(text, "bad percent-encoding in the user") }
      user = decoded.isEmpty ? nil : decoded
    }

    var authority = hostPart
    database = 0
    if let slash = hostPart.firstIndex(of: "/") {
      authority = hostPart[..<slash]
      let path = hostPart[hostPart.index(after: slash)...]
      if !path.isEmpty {
        guard path.allSatisfy(\.isASCII), let db = Int(path), db >= 0 else {
          throw .invalidURL(text, "the path must be a database number, like /0")
        }
        database = db
      }
    }

    var portText: Substring?
    if authority.hasPrefix("[") {
      guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(text, "unclosed '[' in the host") }
      host = String(authority[authority.index(after: authority.startIndex)..<close])
      let after = authority[authority.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":") else { throw .invalidURL(text, "unexpected text after the IPv6 host") }
        portText = after.dropFirst()
      }
    } else if let colon = authority.lastIndex(of: ":") {
      host = String(authority[..<colon])
      portText = authority[authority.index(after: colon)...]
    } else {
      host = String(authority)
    }
    if host.isEmpty { throw .invalidURL(text, "the host is missing") }
    port = 6379
    if let portText {
      guard portText.allSatisfy(\.isASCII), let number = Int(portText), (1...65535).contains(number) else {
        throw .invalidURL(text, "the port must be a number from 1 to 65535")
      }
      port = number
    }
  }

  /// The URL without its password, for logs.
  public var description: String {
    var out = tls ? "rediss://" : "redis://"
    if user != nil || password != nil { out += (user ?? "") + (password == nil ? "" : ":***") + "@" }
    out += host.contains(":") ? "[\(host)]" : host
    out += ":\(port)"
    if database != 0 { out += "/\(database)" }
    return out + tlsOptions.query
  }

  /// `text` with anything between "://" and a later '@' hidden, for error messages.
  static func redacting(_ text: String) -> String {
    let scheme = text.hasPrefix("rediss://") ? "rediss://" : text.hasPrefix("redis://") ? "redis://" : nil
    guard let scheme, let at = text.lastIndex(of: "@") else { return text }
    return scheme + "***" + String(text[at...])
  }

  static func percentDecoded(_ text: Substring) -> String? {
    var bytes: [UInt8] = []
    var utf8 = text.utf8.makeIterator()
    while let byte = utf8.next() {
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard let high = utf8.next().flatMap(hexValue), let low = utf8.next().flatMap(hexValue) else { return nil }
      bytes.append(high << 4 | low)
    }
    return String(validating: bytes, as: UTF8.self)
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
