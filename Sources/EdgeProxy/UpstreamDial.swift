import EdgeLoop
import EdgeTLS

/// How to open one new connection to an upstream: where, within what time, and what goes first on it.
public struct UpstreamDial {
  /// The pool entry the connection belongs to.
  public var key: PoolKey
  public var host: String
  public var port: Int
  /// Resolving and connecting (TCP), in loop milliseconds.
  public var timeoutMilliseconds: UInt64
  /// Written first, before TLS: a PROXY protocol header.
  public var proxyHeader: [UInt8]?
  /// TLS to the upstream, set up before the connection is handed over.
  public var tls: TLS?

  public struct TLS {
    public let context: TLSClientContext
    /// SNI (for a DNS name) and the name the certificate must carry.
    public let serverName: String
    public let handshakeMilliseconds: UInt64
    public init(context: TLSClientContext, serverName: String, handshakeMilliseconds: UInt64) {
      self.context = context
      self.serverName = serverName
      self.handshakeMilliseconds = handshakeMilliseconds
    }
  }

  public init(
    key: PoolKey, host: String, port: Int, timeoutMilliseconds: UInt64, proxyHeader: [UInt8]? = nil, tls: TLS? = nil
  ) {
    self.key = key
    self.host = host
    self.port = port
    self.timeoutMilliseconds = timeoutMilliseconds
    self.proxyHeader = proxyHeader
    self.tls = tls
  }
}

/// Why no connection could be had, in words for the log: `connect: connection refused`, `TLS handshake:
/// certificate verification failed for app.internal: unable to get local issuer certificate`.
public struct UpstreamDialError: Error, CustomStringConvertible {
  public enum Stage: Sendable {
    case resolve, connect, tls
    /// `max_conns_per_host` was reached and no connection came free within the dial timeout.
    case noFreeConnection
  }
  public let stage: Stage
  public let description: String

  public init(_ stage: Stage, _ description: String) {
    self.stage = stage
    self.description = description
  }

  init(_ stage: Stage, _ error: UVError) {
    self.init(stage, "\(error)")
  }
}
