/// Caddyfile: a site's `tls` directive: where its certificates come from and which protocol versions it
/// accepts. A site without one gets automatic HTTPS: the local CA for `localhost`, IP addresses and
/// internal-only names, else a managed certificate (storage now, ACME once it lands).
public struct SiteTLS: Codable, Sendable, Equatable {
  public enum Certificates: Codable, Sendable, Equatable {
    /// Chosen by the name (`CertificateSourceKind.automatic(for:)`).
    case automatic
    /// `tls internal`: issued by the node's local CA.
    case `internal`
    /// `tls cert.pem key.pem`: a chain (leaf first) and its key, read from files.
    case files(certificate: String, key: String)
  }

  public var certificates: Certificates
  /// `protocols <min> [<max>]`: "tls1.2" or "tls1.3"; nil means the listener's default (1.2 / 1.3).
  public var minVersion: String?
  public var maxVersion: String?
  /// `tls <email>`: the ACME account contact for this site's certificates (used once ACME lands).
  public var email: String?
  /// `ciphers <name>…`: TLS 1.2 cipher suites in preference order, by their IANA names as Caddy writes
  /// them (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`); nil: edge's defaults (ECDHE + AEAD only).
  public var ciphers: [String]?
  /// `curves <name>…`: key-exchange groups in preference order (`x25519`, `secp256r1`, `secp384r1`,
  /// `secp521r1`); nil: X25519 then P-256.
  public var curves: [String]?
  /// `on_demand`: names under this site (a `*.` wildcard, or a catch-all) get their certificate at
  /// their first handshake, if `on_demand_tls { ask }` allows.
  public var onDemand: Bool = false
  /// `ca`, `ca_root`, `eab`, `issuer acme …`: this site's CAs, replacing the global ones.
  public var issuers: [ACMEIssuer]?
  /// `key_type p256|p384`.
  public var keyType: String?

  public init(
    certificates: Certificates = .automatic, minVersion: String? = nil, maxVersion: String? = nil,
    email: String? = nil, ciphers: [String]? = nil, curves: [String]? = nil
  ) {
    self.certificates = certificates
    self.minVersion = minVersion
    self.maxVersion = maxVersion
    self.email = email
    self.ciphers = ciphers
    self.curves = curves
  }

  /// The protocol versions `protocols` accepts.
  public static let versions = ["tls1.2", "tls1.3"]

  /// TLS 1.2 suites `ciphers` accepts: IANA name (Caddy's spelling) → OpenSSL name. The CBC and RSA
  /// key-exchange suites are here for clients that need them; edge never offers them unless asked.
  public static let cipherSuites: [String: String] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
  ]

  /// Groups `curves` accepts: Caddy's name → OpenSSL's.
  public static let curveNames: [String: String] = [
    "x25519": "X25519", "secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
  ]
}

/// Caddyfile global `auto_https off | disable_redirects`.
public enum AutoHTTPS: String, Codable, Sendable, Equatable {
  /// Host names are served over HTTPS and plain HTTP for them redirects (the default).
  case on
  /// No redirects; HTTPS as usual.
  case disableRedirects = "disable_redirects"
  /// HTTPS and redirects as usual, but no certificate is obtained: managed names are served from
  /// storage only (certificates placed there by hand, or by another node).
  case disableCerts = "disable_certs"
  /// Nothing automatic: only sites written with `https://` or a `tls` directive are served over HTTPS.
  case off
}

/// How a site address is served.
public struct Listening: Sendable, Equatable, Hashable {
  public let port: Int
  public let secure: Bool
  public init(port: Int, secure: Bool) {
    self.port = port
    self.secure = secure
  }
}

extension Site {
  /// Whether and where `address` is served over TLS, as Caddy decides it: `http://` never, `https://`
  /// always; otherwise a host name (not an IP-less `:port`) is HTTPS unless its port is the HTTP port, and
  /// a bare `:port` is plain HTTP unless it is the HTTPS port. A `tls` directive makes a site HTTPS too.
  public func listening(_ address: SiteAddress, global: GlobalOptions) -> Listening {
    switch address.scheme {
    case "http": return Listening(port: address.port ?? global.httpPort, secure: false)
    case "https": return Listening(port: address.port ?? global.httpsPort, secure: true)
    default: break
    }
    if let port = address.port {
      if port == global.httpPort { return Listening(port: port, secure: false) }
      if port == global.httpsPort { return Listening(port: port, secure: true) }
      let automatic = address.host != nil && global.autoHTTPS != .off
      return Listening(port: port, secure: automatic || tls != nil)
    }
    if address.host == nil { return Listening(port: global.httpPort, secure: false) }
    if global.autoHTTPS == .off && tls == nil { return Listening(port: global.httpPort, secure: false) }
    return Listening(port: global.httpsPort, secure: true)
  }
}

extension SiteAddress {
  /// Names Caddy serves from its local CA by default: `localhost`, `*.localhost`, IP addresses, and the
  /// suffixes that never get public certificates (`.local`, `.internal`, `.home.arpa`).
  public var isInternalName: Bool {
    guard let host = host?.lowercased() else { return false }
    return Self.isInternalName(host)
  }

  public static func isInternalName(_ host: String) -> Bool {
    if host == "localhost" || host.hasSuffix(".localhost") { return true }
    if host.contains(":") { return true }  // IPv6 literal
    if !host.isEmpty && host.allSatisfy({ $0.isNumber || $0 == "." }) && host.split(separator: ".").count == 4 {
      return true
    }
    return host.hasSuffix(".local") || host.hasSuffix(".internal") || host.hasSuffix(".home.arpa")
  }
}
