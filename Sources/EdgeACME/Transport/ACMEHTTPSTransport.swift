import Dispatch
import EdgeCore

/// HTTP/1.1 over TLS (OpenSSL) for talking to ACME CAs. Every blocking call (getaddrinfo, connect,
/// reads, writes) runs on the transport's own dispatch queue, never on the caller's executor or an
/// event loop; `send` suspends until the exchange is done. Idle connections are kept per host.
public final class ACMEHTTPSTransport: ACMETransport {
  public struct Configuration: Sendable {
    /// PEM files whose certificates are trusted besides the system store (Caddy's `acme_ca_root`).
    public var extraRootFiles: [String] = []
    /// PEM text of further trusted certificates.
    public var extraRootPEMs: [String] = []
    /// Resolving and connecting.
    public var connectTimeout: Duration = .seconds(10)
    /// From the first byte written to the last byte of the response.
    public var requestTimeout: Duration = .seconds(30)
    /// Allows `http://` URLs. Only for test endpoints: ACME requires HTTPS (RFC 8555 §6.1).
    public var allowInsecureHTTP = false
    /// RFC 8555 §6.1: clients MUST send a User-Agent.
    public var userAgent = "edge-acme/1"
    /// Idle keep-alive connections kept per scheme+host+port.
    public var maximumIdlePerHost = 2
    /// Idle connections older than this are closed instead of reused.
    public var idleTimeout: Duration = .seconds(30)

    public init() {}
  }

  public let configuration: Configuration
  private let context: TLSClientContext
  private let idle = Locked<[String: [IdleConnection]]>([:])
  private let queue = DispatchQueue(label: "edge.acme.transport", qos: .utility, attributes: .concurrent)
  /// TCP connections opened so far (keep-alive shows as fewer connections than requests).
  let connectionsOpened = Locked(0)

  public init(configuration: Configuration = Configuration()) throws {
    self.configuration = configuration
    context = try TLSClientContext(
      extraRootFiles: configuration.extraRootFiles, extraRootPEMs: configuration.extraRootPEMs)
  }

  deinit {
    let connections = idle.withLock { pool in
      defer { pool.removeAll() }
      return Array(pool.values.joined())
    }
    guard !connections.isEmpty else { return }
    let closing = ClosingConnections(connections)
    queue.async { closing.closeAll() }  // close_notify is a write: not on whatever thread dropped the transport
  }

  public func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse {
    try Task.checkCancellation()  // once under way, an exchange ends by itself within its timeouts
    let endpoint = try HTTPEndpoint(request.url)
    guard endpoint.secure || configuration.allowInsecureHTTP else {
      throw ACMEError(.invalidInput, "refusing plain http for \(request.url) (ACME needs https)")
    }
    for field in request.headers where (field.name + field.value).contains(where: { $0 == "\r" || $0 == "\n" }) {
      throw ACMEError(.invalidInput, "header field \(field.name) contains a line break")
    }
    return try await withCheckedThrowingContinuation { continuation in
      queue.async {
        continuation.resume(with: Result { try self.exchange(request, endpoint) })
      }
    }
  }

  /// One request and its response, on a pooled connection when one is idle. A reused connection that
  /// dies before answering anything was closed by the server meanwhile: the request goes once more on a
  /// fresh connection.
  private func exchange(_ request: ACMEHTTPRequest, _ endpoint: HTTPEndpoint) throws -> ACMEHTTPResponse {
    let head = requestHead(request, endpoint)
    while true {
      let pooled = takeIdle(endpoint)
      let stream: any ByteStream
      do {
        stream = try pooled ?? connect(endpoint)
      } catch {
        throw (error as? ACMEError ?? ACMEError(.transport, "\(error)")).adding("\(request.method) \(request.url)")
      }
      let deadline = ContinuousClock.now + configuration.requestTimeout
      var reader = HTTPResponseReader(stream: stream, deadline: deadline)
      do {
        try stream.write(head + request.body, deadline: deadline)
        let (response, keepAlive) = try reader.read(requestMethod: request.method)
        if keepAlive { putIdle(stream, endpoint) } else { stream.close() }
        return response
      } catch {
        stream.close()
        if pooled != nil && !reader.receivedAnything { continue }
        throw (error as? ACMEError ?? ACMEError(.transport, "\(error)")).adding("\(request.method) \(request.url)")
      }
    }
  }

  private func requestHead(_ request: ACMEHTTPRequest, _ endpoint: HTTPEndpoint) -> [UInt8] {
    var headers = request.headers
    if headers["Host"] == nil { headers.set("Host", endpoint.hostField) }
    if headers["User-Agent"] == nil { headers.set("User-Agent", configuration.userAgent) }
    if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
      headers.set("Content-Length", String(request.body.count))
    }
    var text = "\(request.method) \(endpoint.target) HTTP/1.1\r\n"
    for field in headers { text += "\(field.name): \(field.value)\r\n" }
    text += "\r\n"
    return Array(text.utf8)
  }

  private func connect(_ endpoint: HTTPEndpoint) throws -> any ByteStream {
    let deadline = ContinuousClock.now + configuration.connectTimeout
    let socket = try TCPSocket.connect(host: endpoint.host, port: endpoint.port, deadline: deadline)
    connectionsOpened.withLock { $0 += 1 }
    guard endpoint.secure else { return socket }
    return try TLSStream(socket: socket, context: context, host: endpoint.host, deadline: deadline)
  }

  private func takeIdle(_ endpoint: HTTPEndpoint) -> (any ByteStream)? {
    let now = ContinuousClock.now
    while true {
      let candidate = idle.withLock { pool in pool[endpoint.poolKey]?.popLast() }
      guard let candidate else { return nil }
      if now - candidate.since < configuration.idleTimeout && !candidate.stream.isStale { return candidate.stream }
      candidate.stream.close()
    }
  }

  private func putIdle(_ stream: any ByteStream, _ endpoint: HTTPEndpoint) {
    let kept = IdleConnection(stream: stream, since: .now)
    let overflow = idle.withLock { pool -> IdleConnection? in
      pool[endpoint.poolKey, default: []].append(kept)
      guard pool[endpoint.poolKey]!.count > configuration.maximumIdlePerHost else { return nil }
      return pool[endpoint.poolKey]!.removeFirst()
    }
    overflow?.stream.close()
  }
}

/// Idle connections handed from `deinit` to the queue to be closed there.
private final class ClosingConnections: @unchecked Sendable {
  // Invariant: only `closeAll`, once, on the transport's queue, touches the connections.
  private let connections: [IdleConnection]
  init(_ connections: [IdleConnection]) { self.connections = connections }
  func closeAll() { for connection in connections { connection.stream.close() } }
}

/// A connection waiting in the pool. Owned by the pool or by exactly one exchange at a time, so its
/// stream is never used by two threads at once.
private struct IdleConnection {
  let stream: any ByteStream
  let since: ContinuousClock.Instant
}
