// Hand-written Codable for the model types that hold durations (see DurationCoding.swift), for
// Handler, whose JSON is `{"reverseProxy": {…}}` rather than the synthesized `{"reverseProxy": {"_0": …}}`,
// and for FileServerConfig, whose `browse` is left out when off (older JSON has no such key).

extension GlobalOptions {
  private enum Keys: String, CodingKey {
    case workers, httpPort, httpsPort, gracePeriod, servers, email, admin, logLevel
    case storage, localCerts, autoHTTPS, defaultSNI, adminOrigins, adminEnforceOrigin
    case acmeCA, acmeCARoot, acmeEAB, certIssuers, onDemandTLS, keyType, renewalWindowRatio, acmeDNS
    case requestMetrics
    case telemetry
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = GlobalOptions()
    self.init(
      workers: try c.decodeIfPresent(Int.self, forKey: .workers),
      httpPort: try c.decode(.httpPort, default: d.httpPort),
      httpsPort: try c.decode(.httpsPort, default: d.httpsPort),
      gracePeriod: try c.decodeDuration(.gracePeriod) ?? d.gracePeriod,
      servers: try c.decode(.servers, default: d.servers),
      email: try c.decodeIfPresent(String.self, forKey: .email),
      admin: try c.decodeIfPresent(String.self, forKey: .admin),
      logLevel: try c.decode(.logLevel, default: d.logLevel),
      storage: try c.decodeIfPresent(String.self, forKey: .storage),
      localCerts: try c.decode(.localCerts, default: d.localCerts),
      autoHTTPS: try c.decode(.autoHTTPS, default: d.autoHTTPS),
      defaultSNI: try c.decodeIfPresent(String.self, forKey: .defaultSNI))
    adminOrigins = try c.decodeIfPresent([String].self, forKey: .adminOrigins)
    adminEnforceOrigin = try c.decode(.adminEnforceOrigin, default: false)
    acmeCA = try c.decodeIfPresent(String.self, forKey: .acmeCA)
    acmeCARoot = try c.decodeIfPresent(String.self, forKey: .acmeCARoot)
    acmeEAB = try c.decodeIfPresent(ExternalAccountBinding.self, forKey: .acmeEAB)
    acmeDNS = try c.decodeIfPresent(DNSProvider.self, forKey: .acmeDNS)
    certIssuers = try c.decodeIfPresent([ACMEIssuer].self, forKey: .certIssuers)
    onDemandTLS = try c.decodeIfPresent(OnDemandTLS.self, forKey: .onDemandTLS)
    keyType = try c.decodeIfPresent(String.self, forKey: .keyType)
    renewalWindowRatio = try c.decodeIfPresent(Double.self, forKey: .renewalWindowRatio)
    requestMetrics = try c.decode(.requestMetrics, default: true)
    telemetry = try c.decode(.telemetry, default: false)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeIfPresent(workers, forKey: .workers)
    try c.encode(httpPort, forKey: .httpPort)
    try c.encode(httpsPort, forKey: .httpsPort)
    try c.encodeDuration(gracePeriod, forKey: .gracePeriod)
    try c.encode(servers, forKey: .servers)
    try c.encodeIfPresent(email, forKey: .email)
    try c.encodeIfPresent(admin, forKey: .admin)
    try c.encode(logLevel, forKey: .logLevel)
    try c.encodeIfPresent(storage, forKey: .storage)
    try c.encode(localCerts, forKey: .localCerts)
    try c.encode(autoHTTPS, forKey: .autoHTTPS)
    try c.encodeIfPresent(defaultSNI, forKey: .defaultSNI)
    try c.encodeIfPresent(adminOrigins, forKey: .adminOrigins)
    if adminEnforceOrigin { try c.encode(adminEnforceOrigin, forKey: .adminEnforceOrigin) }
    try c.encodeIfPresent(acmeCA, forKey: .acmeCA)
    try c.encodeIfPresent(acmeCARoot, forKey: .acmeCARoot)
    try c.encodeIfPresent(acmeEAB, forKey: .acmeEAB)
    try c.encodeIfPresent(acmeDNS, forKey: .acmeDNS)
    try c.encodeIfPresent(certIssuers, forKey: .certIssuers)
    try c.encodeIfPresent(onDemandTLS, forKey: .onDemandTLS)
    try c.encodeIfPresent(keyType, forKey: .keyType)
    try c.encodeIfPresent(renewalWindowRatio, forKey: .renewalWindowRatio)
    if !requestMetrics { try c.encode(requestMetrics, forKey: .requestMetrics) }
    if telemetry { try c.encode(telemetry, forKey: .telemetry) }
  }
}

extension ServerOptions {
  private enum Keys: String, CodingKey {
    case readHeaderTimeout, readBodyTimeout, writeTimeout, idleTimeout, maxHeaderBytes, maxURIBytes, maxHeaderCount
    case maxConnections, minBodyRate, protocols, proxyProtocol, trustedProxies, clientIPHeaders
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = ServerOptions()
    self.init(
      readHeaderTimeout: try c.decodeDuration(.readHeaderTimeout) ?? d.readHeaderTimeout,
      readBodyTimeout: try c.decodeDuration(.readBodyTimeout) ?? d.readBodyTimeout,
      writeTimeout: try c.decodeDuration(.writeTimeout) ?? d.writeTimeout,
      idleTimeout: try c.decodeDuration(.idleTimeout) ?? d.idleTimeout,
      maxHeaderBytes: try c.decode(.maxHeaderBytes, default: d.maxHeaderBytes),
      maxURIBytes: try c.decode(.maxURIBytes, default: d.maxURIBytes),
      maxHeaderCount: try c.decode(.maxHeaderCount, default: d.maxHeaderCount),
      maxConnections: try c.decodeIfPresent(Int.self, forKey: .maxConnections),
      minBodyRate: try c.decode(.minBodyRate, default: d.minBodyRate))
    protocols = try c.decode(.protocols, default: d.protocols)
    proxyProtocol = try c.decodeIfPresent(ProxyProtocolListener.self, forKey: .proxyProtocol)
    trustedProxies = try c.decodeIfPresent([String].self, forKey: .trustedProxies)
    clientIPHeaders = try c.decodeIfPresent([String].self, forKey: .clientIPHeaders)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeDuration(readHeaderTimeout, forKey: .readHeaderTimeout)
    try c.encodeDuration(readBodyTimeout, forKey: .readBodyTimeout)
    try c.encodeDuration(writeTimeout, forKey: .writeTimeout)
    try c.encodeDuration(idleTimeout, forKey: .idleTimeout)
    try c.encode(maxHeaderBytes, forKey: .maxHeaderBytes)
    try c.encode(maxURIBytes, forKey: .maxURIBytes)
    try c.encode(maxHeaderCount, forKey: .maxHeaderCount)
    try c.encodeIfPresent(maxConnections, forKey: .maxConnections)
    try c.encode(minBodyRate, forKey: .minBodyRate)
    try c.encode(protocols, forKey: .protocols)
    try c.encodeIfPresent(proxyProtocol, forKey: .proxyProtocol)
    try c.encodeIfPresent(trustedProxies, forKey: .trustedProxies)
    try c.encodeIfPresent(clientIPHeaders, forKey: .clientIPHeaders)
  }
}

extension ReverseProxy {
  private enum Keys: String, CodingKey {
    case upstreams, loadBalancing, healthChecks, headerUp, headerDown, streamIdleTimeout, streamTimeout, transport
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = ReverseProxy(upstreams: [])
    self.init(
      upstreams: try c.decode([Upstream].self, forKey: .upstreams),
      loadBalancing: try c.decode(.loadBalancing, default: d.loadBalancing),
      healthChecks: try c.decode(.healthChecks, default: d.healthChecks),
      headerUp: try c.decode(.headerUp, default: d.headerUp),
      headerDown: try c.decode(.headerDown, default: d.headerDown),
      streamIdleTimeout: try c.decodeOptionalDuration(.streamIdleTimeout, default: d.streamIdleTimeout),
      streamTimeout: try c.decodeOptionalDuration(.streamTimeout, default: d.streamTimeout),
      transport: try c.decode(.transport, default: d.transport))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(upstreams, forKey: .upstreams)
    try c.encode(loadBalancing, forKey: .loadBalancing)
    if !healthChecks.isEmpty { try c.encode(healthChecks, forKey: .healthChecks) }
    try c.encode(headerUp, forKey: .headerUp)
    try c.encode(headerDown, forKey: .headerDown)
    try c.encodeDuration(streamIdleTimeout, forKey: .streamIdleTimeout)
    try c.encodeDuration(streamTimeout, forKey: .streamTimeout)
    try c.encode(transport, forKey: .transport)
  }
}

extension HTTPTransport {
  private enum Keys: String, CodingKey {
    case dialTimeout, responseHeaderTimeout, keepAlive, keepAliveIdleConns, tls, maxConnsPerHost, proxyProtocol
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = HTTPTransport()
    self.init(
      dialTimeout: try c.decodeDuration(.dialTimeout) ?? d.dialTimeout,
      responseHeaderTimeout: try c.decodeDuration(.responseHeaderTimeout) ?? d.responseHeaderTimeout,
      keepAlive: try c.decodeOptionalDuration(.keepAlive, default: d.keepAlive),
      keepAliveIdleConns: try c.decode(.keepAliveIdleConns, default: d.keepAliveIdleConns))
    tls = try c.decodeIfPresent(UpstreamTLS.self, forKey: .tls)
    maxConnsPerHost = try c.decodeIfPresent(Int.self, forKey: .maxConnsPerHost)
    proxyProtocol = try c.decodeIfPresent(ProxyProtocolVersion.self, forKey: .proxyProtocol)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeDuration(dialTimeout, forKey: .dialTimeout)
    try c.encodeDuration(responseHeaderTimeout, forKey: .responseHeaderTimeout)
    try c.encodeDuration(keepAlive, forKey: .keepAlive)
    try c.encode(keepAliveIdleConns, forKey: .keepAliveIdleConns)
    try c.encodeIfPresent(tls, forKey: .tls)
    try c.encodeIfPresent(maxConnsPerHost, forKey: .maxConnsPerHost)
    try c.encodeIfPresent(proxyProtocol, forKey: .proxyProtocol)
  }
}

extension Handler {
  private enum Keys: String, CodingKey {
    case reverseProxy, respond, requestBody, headers, root, fileServer, group, redirect, rewrite, route, abort, error
    case tryFiles, encode, basicAuth, metrics
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    guard c.allKeys.count == 1, let key = c.allKeys.first else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: c.codingPath, debugDescription: "a handler is an object with exactly one of "
          + "'reverseProxy', 'respond', 'requestBody', 'headers', 'root', 'fileServer', 'group', 'redirect', "
          + "'rewrite', 'route', 'abort', 'error', 'tryFiles', 'encode', 'basicAuth', 'metrics'"))
    }
    switch key {
    case .reverseProxy: self = .reverseProxy(try c.decode(ReverseProxy.self, forKey: key))
    case .respond: self = .respond(try c.decode(Respond.self, forKey: key))
    case .requestBody: self = .requestBody(try c.decode(RequestBody.self, forKey: key))
    case .headers: self = .headers(try c.decode(ResponseHeaders.self, forKey: key))
    case .root: self = .root(try c.decode(String.self, forKey: key))
    case .fileServer: self = .fileServer(try c.decode(FileServerConfig.self, forKey: key))
    case .group: self = .group(try c.decode(RouteGroup.self, forKey: key))
    case .redirect: self = .redirect(try c.decode(Redirect.self, forKey: key))
    case .rewrite: self = .rewrite(try c.decode(URIRewrite.self, forKey: key))
    case .route: self = .route(try c.decode(RouteGroup.self, forKey: key))
    case .abort: self = .abort
    case .metrics: self = .metrics
    case .tryFiles: self = .tryFiles(try c.decode([String].self, forKey: key))
    case .encode: self = .encode(try c.decode(EncodeConfig.self, forKey: key))
    case .error: self = .error(try c.decode(ErrorResponse.self, forKey: key))
    case .basicAuth: self = .basicAuth(try c.decode(BasicAuth.self, forKey: key))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    switch self {
    case .reverseProxy(let value): try c.encode(value, forKey: .reverseProxy)
    case .respond(let value): try c.encode(value, forKey: .respond)
    case .requestBody(let value): try c.encode(value, forKey: .requestBody)
    case .headers(let value): try c.encode(value, forKey: .headers)
    case .root(let value): try c.encode(value, forKey: .root)
    case .fileServer(let value): try c.encode(value, forKey: .fileServer)
    case .group(let value): try c.encode(value, forKey: .group)
    case .redirect(let value): try c.encode(value, forKey: .redirect)
    case .rewrite(let value): try c.encode(value, forKey: .rewrite)
    case .route(let value): try c.encode(value, forKey: .route)
    case .abort: try c.encode([String: String](), forKey: .abort)
    case .metrics: try c.encode([String: String](), forKey: .metrics)
    case .tryFiles(let files): try c.encode(files, forKey: .tryFiles)
    case .encode(let value): try c.encode(value, forKey: .encode)
    case .error(let value): try c.encode(value, forKey: .error)
    case .basicAuth(let value): try c.encode(value, forKey: .basicAuth)
    }
  }
}

// Values with defaults may be left out of JSON (a route added through the admin API need not spell out
// `"close": false`); they are always written out.

extension Respond {
  private enum Keys: String, CodingKey { case status, body, close }
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(
      status: try c.decodeIfPresent(Int.self, forKey: .status), body: try c.decode(.body, default: ""),
      close: try c.decode(.close, default: false))
  }
}

extension ErrorResponse {
  private enum Keys: String, CodingKey { case status, message }
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(status: try c.decode(Int.self, forKey: .status), message: try c.decode(.message, default: ""))
  }
}

extension Redirect {
  private enum Keys: String, CodingKey { case to, status }
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(to: try c.decode(String.self, forKey: .to), status: try c.decode(.status, default: 302))
  }
}

extension FileServerConfig {
  private enum Keys: String, CodingKey {
    case root, indexNames, hide, precompressed, browse
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(
      root: try c.decodeIfPresent(String.self, forKey: .root),
      indexNames: try c.decode(.indexNames, default: ["index.html", "index.txt"]),
      hide: try c.decode(.hide, default: []),
      precompressed: try c.decode(.precompressed, default: []),
      browse: try c.decode(.browse, default: false))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeIfPresent(root, forKey: .root)
    try c.encode(indexNames, forKey: .indexNames)
    try c.encode(hide, forKey: .hide)
    try c.encode(precompressed, forKey: .precompressed)
    if browse { try c.encode(browse, forKey: .browse) }
  }
}

extension SiteLog {
  private enum Keys: String, CodingKey { case output, path, rollSize, rollKeep, mode, format, level }
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let d = SiteLog()
    self.init(
      output: try c.decode(.output, default: d.output), path: try c.decodeIfPresent(String.self, forKey: .path),
      // An explicit null means "never roll"; a missing key, the default.
      rollSize: c.contains(.rollSize) ? try c.decodeIfPresent(Int.self, forKey: .rollSize) : d.rollSize,
      rollKeep: try c.decode(.rollKeep, default: d.rollKeep), mode: try c.decode(.mode, default: d.mode),
      format: try c.decode(.format, default: d.format), level: try c.decode(.level, default: d.level))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(output, forKey: .output)
    try c.encodeIfPresent(path, forKey: .path)
    if let rollSize { try c.encode(rollSize, forKey: .rollSize) } else { try c.encodeNil(forKey: .rollSize) }
    try c.encode(rollKeep, forKey: .rollKeep)
    try c.encode(mode, forKey: .mode)
    try c.encode(format, forKey: .format)
    try c.encode(level, forKey: .level)
  }
}

extension SiteTLS {
  private enum Keys: String, CodingKey {
    case certificates, minVersion, maxVersion, email, ciphers, curves, onDemand, issuers, keyType
  }
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(
      certificates: try c.decode(.certificates, default: .automatic),
      minVersion: try c.decodeIfPresent(String.self, forKey: .minVersion),
      maxVersion: try c.decodeIfPresent(String.self, forKey: .maxVersion),
      email: try c.decodeIfPresent(String.self, forKey: .email), ciphers: try c.decodeIfPresent([String].self, forKey: .ciphers),
      curves: try c.decodeIfPresent([String].self, forKey: .curves))
    onDemand = try c.decode(.onDemand, default: false)
    issuers = try c.decodeIfPresent([ACMEIssuer].self, forKey: .issuers)
    keyType = try c.decodeIfPresent(String.self, forKey: .keyType)
  }
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(certificates, forKey: .certificates)
    try c.encodeIfPresent(minVersion, forKey: .minVersion)
    try c.encodeIfPresent(maxVersion, forKey: .maxVersion)
    try c.encodeIfPresent(email, forKey: .email)
    try c.encodeIfPresent(ciphers, forKey: .ciphers)
    try c.encodeIfPresent(curves, forKey: .curves)
    if onDemand { try c.encode(onDemand, forKey: .onDemand) }
    try c.encodeIfPresent(issuers, forKey: .issuers)
    try c.encodeIfPresent(keyType, forKey: .keyType)
  }
}

extension ACMEIssuer {
  private enum Keys: String, CodingKey {
    case directory, email, trustedRoots, eab, disableHTTPChallenge, disableTLSALPNChallenge, dns
  }
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(
      directory: try c.decode(.directory, default: ""), email: try c.decodeIfPresent(String.self, forKey: .email),
      trustedRoots: try c.decodeIfPresent([String].self, forKey: .trustedRoots),
      eab: try c.decodeIfPresent(ExternalAccountBinding.self, forKey: .eab),
      disableHTTPChallenge: try c.decode(.disableHTTPChallenge, default: false),
      disableTLSALPNChallenge: try c.decode(.disableTLSALPNChallenge, default: false))
    dns = try c.decodeIfPresent(DNSProvider.self, forKey: .dns)
  }
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(directory, forKey: .directory)
    try c.encodeIfPresent(email, forKey: .email)
    try c.encodeIfPresent(trustedRoots, forKey: .trustedRoots)
    try c.encodeIfPresent(eab, forKey: .eab)
    if disableHTTPChallenge { try c.encode(true, forKey: .disableHTTPChallenge) }
    if disableTLSALPNChallenge { try c.encode(true, forKey: .disableTLSALPNChallenge) }
    try c.encodeIfPresent(dns, forKey: .dns)
  }
}

extension DNSProvider {
  private enum Keys: String, CodingKey { case command, propagationDelay }
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(command: try c.decode([String].self, forKey: .command), propagationDelay: try c.decodeDuration(.propagationDelay))
  }
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(command, forKey: .command)
    try c.encodeDuration(propagationDelay, forKey: .propagationDelay)
  }
}
