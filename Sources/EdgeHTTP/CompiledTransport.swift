import EdgeConfig
import EdgeCore
import EdgeProxy
import EdgeTLS
import Logging

/// A `reverse_proxy`'s `transport http`, compiled once per route table: the TLS client context, the pool
/// keys of its upstreams, `max_conns_per_host` and the PROXY header version.
public final class CompiledTransport: Sendable {
  public let settings: HTTPTransport
  /// nil: plain TCP.
  public let tls: TLSClientContext?
  /// Why TLS could not be set up (a CA file gone since the check at load): requests get 502.
  let tlsError: String?
  let handshakeMilliseconds: UInt64
  let proxyProtocol: ProxyHeader.Version?
  let maxConnsPerHost: Int?
  /// Whether `settings.tls` is set, read on every request without copying the settings.
  let usesTLS: Bool
  /// TLS upstreams' pool keys, by upstream; plain upstreams use their own key.
  private let tlsKeys: [ObjectIdentifier: PoolKey]

  init(_ settings: HTTPTransport, targets: [UpstreamTarget]) {
    self.settings = settings
    maxConnsPerHost = settings.maxConnsPerHost
    proxyProtocol = settings.proxyProtocol.map { $0 == .v1 ? .v1 : .v2 }
    handshakeMilliseconds = settings.tls?.handshakeTimeout.milliseconds ?? 0
    usesTLS = settings.tls != nil
    guard let tlsSettings = settings.tls else {
      tls = nil
      tlsError = nil
      tlsKeys = [:]
      return
    }
    var context: TLSClientContext?
    var error: String?
    do { context = try Self.context(for: tlsSettings) } catch let failure { error = failure.message }
    tls = context
    tlsError = error
    var keys: [ObjectIdentifier: PoolKey] = [:]
    for target in targets { keys[ObjectIdentifier(target)] = Self.tlsKey(target.key, tlsSettings) }
    tlsKeys = keys
  }

  /// Where idle connections to `target` wait: never the entry of plain connections to the same address.
  func key(for target: UpstreamTarget) -> PoolKey {
    guard usesTLS, let tlsSettings = settings.tls else { return target.key }
    return tlsKeys[ObjectIdentifier(target)] ?? Self.tlsKey(target.key, tlsSettings)
  }

  /// `https://host:port` and every TLS setting that decides whether a connection may be reused.
  static func tlsKey(_ plain: PoolKey, _ tls: UpstreamTLS) -> PoolKey {
    var text = "https://" + plain.text
    if let name = tls.serverName { text += "|sni=" + name }
    if let files = tls.trustedCACerts { text += "|ca=" + files.joined(separator: ",") }
    if tls.insecureSkipVerify { text += "|insecure" }
    return PoolKey(text)
  }

  /// How to open a new connection to `target` under `key`; nil when TLS could not be set up.
  func dial(_ target: UpstreamTarget, key: PoolKey, timeoutMilliseconds: UInt64, proxyHeader: [UInt8]?) -> UpstreamDial? {
    var tlsDial: UpstreamDial.TLS?
    if let tlsSettings = settings.tls {
      guard let tls else { return nil }
      tlsDial = UpstreamDial.TLS(
        context: tls, serverName: tlsSettings.serverName ?? target.host, handshakeMilliseconds: handshakeMilliseconds)
    }
    return UpstreamDial(
      key: key, host: target.host, port: target.port, timeoutMilliseconds: timeoutMilliseconds, proxyHeader: proxyHeader,
      tls: tlsDial)
  }

  // MARK: TLS contexts

  /// Contexts made by the last check at load, for the routes compiled right after it (one context per
  /// distinct setting, shared by the routes using it).
  private static let prepared = Locked<[UpstreamTLS: TLSClientContext]>([:])

  private static func context(for tls: UpstreamTLS) throws(ConfigError) -> TLSClientContext {
    if let made = prepared.withLock({ $0[tls] }) { return made }
    return try makeContext(tls)
  }

  private static func makeContext(_ tls: UpstreamTLS) throws(ConfigError) -> TLSClientContext {
    let files = tls.trustedCACerts ?? []
    let configuration = TLSClientConfiguration(
      trustedCAFile: files.first, insecureSkipVerify: tls.insecureSkipVerify, moreTrustedCAFiles: Array(files.dropFirst()))
    do {
      return try TLSClientContext(configuration: configuration)
    } catch {
      throw ConfigError("setting up TLS to upstreams: \(error)")
    }
  }

  private static let logger = Logger(label: "edge.proxy")

  /// Makes the TLS context of every `reverse_proxy` in `config` (reading its CA files now, so a missing one
  /// is an error at its directive), and warns about each that skips verification.
  static func prepare(_ config: EdgeConfig) throws(ConfigError) {
    var made: [UpstreamTLS: TLSClientContext] = [:]
    func visit(_ routes: [Route], _ fallback: SourceLocation?) throws(ConfigError) {
      for route in routes {
        switch route.handler {
        case .reverseProxy(let proxy):
          guard let tls = proxy.transport.tls, made[tls] == nil else { continue }
          do { made[tls] = try makeContext(tls) } catch { throw ConfigError(error.message, at: route.location ?? fallback) }
          if tls.insecureSkipVerify {
            logger.warning(
              "tls_insecure_skip_verify: upstream certificates are not verified; anyone on the path can read and change this traffic",
              metadata: [
                "upstreams": "\(proxy.upstreams.map(\.description).joined(separator: " "))",
                "at": "\(route.location.map(\.description) ?? "-")",
              ])
          }
        case .group(let group), .route(let group):
          try visit(group.routes, route.location ?? fallback)
        default:
          continue
        }
      }
    }
    for site in config.sites {
      try visit(site.routes, site.location)
      for block in site.errors ?? [] { try visit(block.routes, block.location ?? site.location) }
    }
    prepared.withLock { $0 = made }
  }
}
