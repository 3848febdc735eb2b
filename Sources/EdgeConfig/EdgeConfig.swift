/// The whole configuration of a node: one immutable value, validated as a whole.
/// JSON (Codable) is its wire form; the Caddyfile is adapted into it (`CaddyfileAdapter`).
public struct EdgeConfig: Codable, Sendable, Equatable {
  /// Format version of this model. Bumped on incompatible changes.
  public var version: Int
  public var global: GlobalOptions
  /// Sites in the order they were written.
  public var sites: [Site]

  public init(version: Int = 1, global: GlobalOptions = .init(), sites: [Site] = []) {
    self.version = version
    self.global = global
    self.sites = sites
  }
}

/// Caddyfile: the global options block `{ … }` at the top of the file.
public struct GlobalOptions: Codable, Sendable, Equatable {
  /// `workers N`: worker event loops. Default (nil): one per CPU core.
  public var workers: Int?
  /// `http_port N`: the port of sites without a scheme or port that are served over plain HTTP. Default 80.
  public var httpPort: Int
  /// `https_port N`: the default port of sites served over HTTPS. Default 443.
  public var httpsPort: Int
  /// `grace_period 30s`: on SIGTERM/SIGINT, how long in-flight requests and tunnels may take to finish
  /// before they are closed. Default 30 s.
  public var gracePeriod: Duration
  /// `servers { … }`: limits and timeouts of every listener.
  public var servers: ServerOptions
  /// `email a@b`: ACME account contact. Stored; used once ACME lands.
  public var email: String?
  /// `admin off | ADDRESS`: admin endpoint address; nil means the default (localhost:2019), "off" disables.
  /// `unix//path` is a unix socket.
  public var admin: String?
  /// `admin { origins … }`: more Host/Origin values the admin endpoint accepts (`example.com:2019`,
  /// `https://ops.example.com`).
  public var adminOrigins: [String]?
  /// `admin { enforce_origin }`: requests must carry an allowed Origin, not only an allowed Host.
  public var adminEnforceOrigin = false
  /// `acme_ca <directory>`: the CA for managed certificates; nil: Let's Encrypt.
  public var acmeCA: String?
  /// `acme_ca_root <pem_file>`: a root that signs the CA's own HTTPS certificate (a private or test CA).
  public var acmeCARoot: String?
  /// `acme_eab`: External Account Binding for the default CA.
  public var acmeEAB: ExternalAccountBinding?
  /// `acme_dns exec <program> …`: the DNS-01 provider of the default CA.
  public var acmeDNS: DNSProvider?
  /// `cert_issuer acme …` (one or more): the CAs to try in order; nil: the one `acme_ca` describes.
  public var certIssuers: [ACMEIssuer]?
  /// `on_demand_tls { ask … }`.
  public var onDemandTLS: OnDemandTLS?
  /// `key_type p256|p384`: the key of managed certificates. Default p256.
  public var keyType: String?
  /// `renewal_window_ratio <0..1>`: renew when this much of a certificate's lifetime is left (default
  /// 1/3: at two thirds), unless the CA suggests a window (ARI).
  public var renewalWindowRatio: Double?
  /// `metrics` / `metrics off`: per-request HTTP series (requests, latency, bytes by site) in `/metrics`.
  /// On by default; TLS, ACME, cluster and process series are always there.
  public var requestMetrics = true

  /// The issuers a managed certificate without its own `tls` issuer settings uses, in order.
  public var defaultIssuers: [ACMEIssuer] {
    if let certIssuers, !certIssuers.isEmpty { return certIssuers.map(resolved) }
    var issuer = ACMEIssuer(directory: acmeCA ?? ACMEIssuer.letsEncrypt, email: email, trustedRoots: acmeCARoot.map { [$0] }, eab: acmeEAB)
    issuer.dns = acmeDNS
    return [issuer]
  }

  /// The issuers for a site's managed certificates: its own (`tls { ca …; issuer … }`) with what they
  /// leave out taken from the global options, else the global ones. `tls <email>` sets the contact.
  public func issuers(for tls: SiteTLS?) -> [ACMEIssuer] {
    var issuers = tls?.issuers.map { $0.map(resolved) } ?? defaultIssuers
    if let email = tls?.email {
      for index in issuers.indices { issuers[index].email = email }
    }
    return issuers
  }

  /// An issuer with the global CA, contact, roots and binding filled in where it has none.
  private func resolved(_ issuer: ACMEIssuer) -> ACMEIssuer {
    var issuer = issuer
    if issuer.directory.isEmpty {
      issuer.directory = acmeCA ?? ACMEIssuer.letsEncrypt
      if issuer.eab == nil { issuer.eab = acmeEAB }
      if issuer.trustedRoots == nil, let acmeCARoot { issuer.trustedRoots = [acmeCARoot] }
    }
    if issuer.dns == nil { issuer.dns = acmeDNS }
    if issuer.email == nil { issuer.email = email }
    return issuer
  }
  /// `log { level debug|info|warn|error }` (only the level for now). Default info.
  public var logLevel: String
  /// `storage file_system <path>`: where the node keeps its local CA and certificates. Default (nil):
  /// `$XDG_DATA_HOME/edge`, else `~/.local/share/edge`.
  public var storage: String?
  /// `local_certs`: every HTTPS site uses the local CA.
  public var localCerts: Bool
  /// `auto_https off | disable_redirects`.
  public var autoHTTPS: AutoHTTPS
  /// `default_sni <name>`: the certificate for clients that send no server name.
  public var defaultSNI: String?
  /// `telemetry [on|off]`: count what TLS clients offer and negotiate (docs/telemetry.md). Default off.
  public var telemetry = false

  public init(
    workers: Int? = nil, httpPort: Int = 80, httpsPort: Int = 443, gracePeriod: Duration = .seconds(30),
    servers: ServerOptions = .init(), email: String? = nil, admin: String? = nil, logLevel: String = "info",
    storage: String? = nil, localCerts: Bool = false, autoHTTPS: AutoHTTPS = .on, defaultSNI: String? = nil
  ) {
    self.storage = storage
    self.localCerts = localCerts
    self.autoHTTPS = autoHTTPS
    self.defaultSNI = defaultSNI
    self.workers = workers
    self.httpPort = httpPort
    self.httpsPort = httpsPort
    self.gracePeriod = gracePeriod
    self.servers = servers
    self.email = email
    self.admin = admin
    self.logLevel = logLevel
  }
}

/// Caddyfile: `servers { timeouts { … } max_header_size 16KB … }` in the global options. Every limit,
/// its default and what a client gets when it is exceeded: docs/limits.md.
public struct ServerOptions: Codable, Sendable, Equatable {
  /// `timeouts { read_header 10s }`: time allowed to receive a whole request head (→ 408); it also bounds
  /// a TLS handshake, which must be done within it. Default 10 s.
  public var readHeaderTimeout: Duration
  /// `timeouts { read_body 60s }`: longest pause while receiving a request body (→ 408), and the grace
  /// before `min_body_rate` applies. Default 60 s.
  public var readBodyTimeout: Duration
  /// `timeouts { write 60s }`: longest pause while a client does not take response bytes. Default 60 s.
  public var writeTimeout: Duration
  /// `timeouts { idle 5m }`: how long an idle keep-alive connection is kept. Default 5 min (Caddy's).
  public var idleTimeout: Duration
  /// `max_header_size 16KB`: the request line and headers together (→ 431). Default 16 KiB.
  public var maxHeaderBytes: Int
  /// `max_uri_length 8KB` (edge): the request target (→ 414). Default 8 KiB.
  public var maxURIBytes: Int
  /// `max_header_count 100` (edge): header fields per request (→ 431). Default 100.
  public var maxHeaderCount: Int
  /// `max_connections 10000` (edge): client connections the node holds at once, all listeners and workers
  /// together (tunnels included). At the limit a new connection takes the place of the one that has waited
  /// longest without a request under way; when every connection is busy it is closed at once. Nil: half
  /// the open-file limit less 64 (each proxied request also holds an upstream socket), and at most one per
  /// 320 KiB of half the machine's memory (what a client that stops reading can hold up).
  public var maxConnections: Int?
  /// `min_body_rate 1KB` (edge): after the first `read_body`, a request body must have arrived at this
  /// many bytes per second on average (→ 408); 0 turns it off. Time edge itself was not reading (the
  /// upstream not taking the body) does not count. Default 1,000 bytes/s.
  public var minBodyRate: Int
  /// `protocols h1 h2 h2c` (Caddy's): the HTTP versions served. `h2` is HTTP/2 over TLS, chosen by ALPN;
  /// `h2c` is HTTP/2 with prior knowledge on cleartext listeners (off unless listed, as in Caddy).
  /// Default `h1 h2`.
  public var protocols: [String] = ["h1", "h2"]
  /// `listener_wrappers { proxy_protocol { … } tls }`: read a PROXY header from load balancers before
  /// TLS and HTTP. Default nil: connections are served as they come.
  public var proxyProtocol: ProxyProtocolListener?
  /// `trusted_proxies static <ranges…>` (`private_ranges` expanded): peers whose forwarding fields are
  /// believed (see `TrustedProxyRanges`). Default nil: no peer is.
  public var trustedProxies: [String]?
  /// `client_ip_headers <fields…>`: where a trusted peer's client address is read, in order. Default
  /// nil: `X-Forwarded-For`.
  public var clientIPHeaders: [String]?

  public init(
    readHeaderTimeout: Duration = .seconds(10), readBodyTimeout: Duration = .seconds(60),
    writeTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(300),
    maxHeaderBytes: Int = 16 * 1024, maxURIBytes: Int = 8 * 1024, maxHeaderCount: Int = 100,
    maxConnections: Int? = nil, minBodyRate: Int = 1000
  ) {
    self.readHeaderTimeout = readHeaderTimeout
    self.readBodyTimeout = readBodyTimeout
    self.writeTimeout = writeTimeout
    self.idleTimeout = idleTimeout
    self.maxHeaderBytes = maxHeaderBytes
    self.maxURIBytes = maxURIBytes
    self.maxHeaderCount = maxHeaderCount
    self.maxConnections = maxConnections
    self.minBodyRate = minBodyRate
  }
}

/// Where a config value came from, for errors found after adapting (file:line:column).
public struct SourceLocation: Codable, Sendable, Equatable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int
  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }
  public var description: String { "\(file):\(line):\(column)" }
}
