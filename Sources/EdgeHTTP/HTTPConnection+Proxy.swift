import EdgeConfig
import EdgeCore
import EdgeEncode
import EdgeHTTP1
import EdgeLoop
import EdgeProxy
import Logging

extension HTTPConnection {
  // MARK: Starting

  func startProxy(_ head: RequestHead, route: ProxyRoute, bodyLimit: Int?, responseFields: [HeaderOperation]) {
    upstreamInbound.removeAll()
    let target = route.select(head, remoteIP: remoteIP, clientIP: clientIP)
    if target == nil, !route.config.loadBalancing.retriesLater {
      worker.logger.warning("no upstream available", metadata: ["upstreams": "\(route.targets.count)"])
      return fail(status: 503, "no upstreams available", head: head, fields: responseFields, close: head.framing != .none)
    }
    let exchange = ProxyExchange(
      request: head, route: route, target: target, startedAt: loop.now, bodyLimit: bodyLimit,
      upstreamInbound: upstreamInbound)
    exchange.responseFields = responseFields
    self.exchange = exchange
    phase = .proxying
    guard target != nil else {
      exchange.noneAvailable = true
      return waitToRetry(exchange)
    }
    connectUpstream(exchange, fresh: false)
  }

  func connectUpstream(_ exchange: ProxyExchange, fresh: Bool) {
    let route = exchange.route
    let transport = route.transport
    let target = exchange.target
    var key = transport.key(for: target)
    var proxyHeader: [UInt8]?
    if let version = transport.proxyProtocol {
      // The connection will speak for this client connection only (see `ownUpstreamKeys`).
      let (header, client) = proxyProtocolHeader(version)
      proxyHeader = header
      key = PoolKey(key, client: client)
      if !ownUpstreamKeys.contains(key) { ownUpstreamKeys.append(key) }
    }
    if !fresh, route.keepAliveMilliseconds != nil, let idle = worker.pool.takeIdle(key: key) {
      return upstreamConnected(exchange, .success(idle))
    }
    guard
      let dial = transport.dial(
        target, key: key, timeoutMilliseconds: route.dialMilliseconds, proxyHeader: proxyHeader)
    else {
      worker.logger.error(
        "upstream TLS is not set up", metadata: ["upstream": "\(target)", "error": "\(transport.tlsError ?? "-")"])
      return failExchange(status: 502, "upstream TLS is not set up")
    }
    // Weak: a request waiting for a free connection must not outlive its client.
    let waiter = worker.pool.connect(dial, limit: transport.maxConnsPerHost) { [weak self, weak exchange] result in
      guard let self, let exchange else {
        if case .success(let conn) = result { conn.close() }
        return
      }
      self.assumeIsolated { $0.upstreamConnected(exchange, result) }
    }
    // (A dial that failed at once may already have moved the exchange on, to a wait of its own.)
    if let waiter { exchange.waiter = waiter }
  }

  /// The PROXY header for upstream connections of this client connection, and the client's address as
  /// text for their pool key.
  func proxyProtocolHeader(_ version: ProxyHeader.Version) -> ([UInt8], String) {
    let source = proxiedSource ?? client.peerEndpoint().flatMap { ProxyEndpoint(ip: $0.ip, port: $0.port) }
    let destination = proxiedDestination ?? client.localEndpoint().flatMap { ProxyEndpoint(ip: $0.ip, port: $0.port) }
    guard let source, let destination else { return (ProxyHeader.unknown.encoded(version), "unknown") }
    return (ProxyHeader.proxied(source: source, destination: destination).encoded(version), source.description)
  }

  func upstreamConnected(_ exchange: ProxyExchange, _ result: Result<UpstreamConnection, UpstreamDialError>) {
    exchange.waiter = nil
    guard self.exchange === exchange, phase == .proxying else {
      if case .success(let conn) = result { conn.close() }
      return
    }
    switch result {
    case .failure(let error):
      worker.logger.warning(
        error.stage == .tls ? "upstream TLS handshake failed" : "upstream unreachable",
        metadata: ["upstream": "\(exchange.target)", "error": "\(error)"])
      exchange.route.balancer.recordFailure(of: exchange.target)
      // Nothing has been sent, so any request may go to the next upstream.
      if tryNextUpstream(exchange) { return }
      return failExchange(status: 502, error.stage == .tls ? "upstream TLS handshake failed" : "upstream unreachable")
    case .success(let conn):
      exchange.upstream = conn
      conn.stream.delegate = UpstreamEvents(self)
      exchange.sentAt = monotonicNanoseconds()
      sendRequestHead(exchange)
      conn.stream.startReading()
      if exchange.requestBodyDone {
        armUpstreamTimer(exchange)
      } else {
        // response_header_timeout starts once the body is sent, as in Caddy: an upload may take longer.
        if exchange.request.expectContinue && inbound.isEmpty {
          client.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        exchange.bodyStartedAt = loop.now
        armBodyTimer(exchange)
        pumpRequestBody()
        // Reading may have stopped while no upstream took the body.
        if self.exchange === exchange, exchange.bodyPausedAt == nil, !exchange.requestBodyDone { client.startReading() }
      }
    }
  }

  /// The request as the upstream sees it: hop-by-hop fields gone, X-Forwarded-* set, the body re-framed.
  func sendRequestHead(_ exchange: ProxyExchange) {
    if !exchange.headEncoded {
      exchange.headEncoded = true
      upstreamHead.removeAll(keepingCapacity: true)
      let rules = exchange.route.config.headerUp
      // What a trusted proxy forwarded, read before the fields are dropped below.
      let prior = peerTrusted ? PriorForwarding(exchange.request.headers) : nil
      if rules.isEmpty {
        // The usual case: one filtered pass over the client's fields, then edge's own.
        exchange.request.encodeRequestLine(into: &upstreamHead)
        exchange.request.headers.writeForwarded(into: &upstreamHead, also: replacedRequestFields)
        forEachForwardingField(exchange, prior: prior) { upstreamHead.appendField($0, $1) }
        upstreamHead.append(contentsOf: [13, 10])
      } else {
        // With header_up rules: rewrite the fields in place so the rules see edge's own fields too.
        exchange.request.headers.removeHopByHopFields(also: replacedRequestFields)
        forEachForwardingField(exchange, prior: prior) { exchange.request.headers.add($0.description, $1) }
        exchange.request.headers.apply(rules, placeholders(exchange.request, upstream: exchange.target.description))
        exchange.request.encode(into: &upstreamHead)
      }
    }
    exchange.upstream!.stream.write(upstreamHead)
  }

  /// The fields edge adds to every request it forwards: X-Forwarded-*, the protocol switch it passes on,
  /// and the framing it re-encodes the body with. The client's X-Forwarded-* are replaced, unless the
  /// peer is a trusted proxy (`prior`): then edge adds the peer to its X-Forwarded-For and keeps its
  /// X-Forwarded-Proto and -Host, as Caddy does.
  func forEachForwardingField(_ exchange: ProxyExchange, prior: PriorForwarding? = nil, _ field: (StaticString, String) -> Void) {
    if let prior {
      field("X-Forwarded-For", prior.forwardedFor.map { $0 + ", " + remoteIP } ?? remoteIP)
      field("X-Forwarded-Proto", prior.proto ?? (isSecure ? "https" : "http"))
      if let host = prior.host ?? exchange.request.host { field("X-Forwarded-Host", host) }
    } else {
      field("X-Forwarded-For", remoteIP)
      field("X-Forwarded-Proto", isSecure ? "https" : "http")
      if let host = exchange.request.host { field("X-Forwarded-Host", host) }
    }
    if let upgrade = exchange.request.upgrade {
      field("Connection", "Upgrade")
      field("Upgrade", upgrade)
    } else if exchange.route.config.transport.keepAlive == nil {
      field("Connection", "close")
    }
    if exchange.chunkedUpstream { field("Transfer-Encoding", "chunked") }
    if case .length(let length) = exchange.request.framing { field("Content-Length", String(length)) }
  }

  // MARK: Request body

  /// Moves buffered request-body bytes upstream, re-framed, respecting the upstream's write queue.
  func pumpRequestBody() {
    guard let exchange, !exchange.requestBodyDone, let upstream = exchange.upstream?.stream else { return }
    do {
      var sizeLine: [UInt8] = []
      let (consumed, finished) = try exchange.requestBody.decode(inbound.readable) { data in
        exchange.requestBodyBytes += data.count
        upstream.writeBodyPiece(data, chunked: exchange.chunkedUpstream, sizeLine: &sizeLine)
      }
      inbound.consume(consumed)
      if let limit = exchange.bodyLimit, exchange.requestBodyBytes > limit {
        return failExchange(status: 413, "request body too large")
      }
      if finished {
        exchange.requestBodyDone = true
        if exchange.chunkedUpstream { upstream.write(ChunkedEncoder.lastChunk) }
        timer.stop()
        armUpstreamTimer(exchange)
      } else if !upstream.isWritable || exchange.bodyPausedAt != nil {
        // Paused until the upstream's queue drains (to its low watermark, not merely below the high one).
        pauseRequestBody(exchange)
      } else {
        armBodyTimer(exchange)
      }
    } catch {
      failExchange(status: error.status, "bad request body: \(error)")
    }
  }

  /// The upstream is not taking the body as fast as it comes: stop reading the client. The pause is the
  /// upstream's doing, so the client's timers stop and the upstream gets response_header_timeout to drain.
  func pauseRequestBody(_ exchange: ProxyExchange) {
    client.stopReading()
    guard exchange.bodyPausedAt == nil else { return }
    exchange.bodyPausedAt = loop.now
    timer.stop()
    armUpstreamTimer(exchange)
  }

  func resumeRequestBody(_ exchange: ProxyExchange) {
    if let pausedAt = exchange.bodyPausedAt {
      exchange.bodyPausedTotal += loop.now - pausedAt
      exchange.bodyPausedAt = nil
      upstreamTimer.stop()
      armBodyTimer(exchange)
    }
    client.startReading()
  }

  /// The client timer while a request body arrives: `read_body` after the last read, and no later than
  /// the `min_body_rate` deadline — `read_body` after the body started plus a second for every
  /// `min_body_rate` bytes received, not counting time edge was not reading. A client trickling a few
  /// bytes just inside `read_body` (slowhttptest -B) is cut there instead of holding an upstream
  /// connection for as long as it likes.
  func armBodyTimer(_ exchange: ProxyExchange) {
    var wait = timeouts.readBody
    if timeouts.minBodyRate > 0 {
      let earned = UInt64(exchange.requestBodyBytes) * 1000 / UInt64(timeouts.minBodyRate)
      let due = exchange.bodyStartedAt + exchange.bodyPausedTotal + timeouts.readBody + earned
      let now = loop.now
      wait = min(wait, due > now ? due - now : 0)
    }
    armClientTimer(wait)
  }

  // MARK: Response

  func upstreamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    guard let exchange, stream === exchange.upstream?.stream else { return stream.close() }
    exchange.receivedAnything = true
    if !exchange.responseHeadSent {
      exchange.upstreamInbound.append(bytes)
      parseResponseHead(exchange)
    } else if exchange.upstreamInbound.isEmpty {
      pumpResponseBody(exchange, bytes)
    } else {
      exchange.upstreamInbound.append(bytes)
      pumpBufferedResponse(exchange)
    }
  }

  func parseResponseHead(_ exchange: ProxyExchange) {
    while !exchange.responseHeadSent, phase == .proxying {
      switch exchange.responseParser.parse(exchange.upstreamInbound.readable, requestMethod: exchange.request.method) {
      case .needMoreBytes:
        return
      case .invalid(let error):
        worker.logger.warning(
          "bad response from upstream", metadata: ["upstream": "\(exchange.target)", "error": "\(error)"])
        exchange.route.balancer.recordFailure(of: exchange.target)
        return failExchange(status: 502, "bad response from upstream")
      case .complete(let head, let consumed):
        exchange.upstreamInbound.consume(consumed)
        exchange.responseParser.reset()
        if head.status == 101 {
          guard exchange.isUpgrade else { return failExchange(status: 502, "unexpected 101 from upstream") }
          return switchProtocols(exchange, head)
        }
        if head.status < 200 {
          // Interim responses (103 Early Hints…) go to HTTP/1.1 clients; our own 100 was already sent.
          if head.status != 100 && exchange.request.version == .http1_1 {
            var out: [UInt8] = []
            head.encode(into: &out)
            client.write(out)
          }
          continue
        }
        startResponse(exchange, head)
      }
    }
  }

  func startResponse(_ exchange: ProxyExchange, _ upstreamHead: consuming ResponseHead) {
    upstreamTimer.stop()
    let latency = monotonicNanoseconds() - exchange.sentAt
    exchange.target.stats.meter.responseHead(after: Double(latency) / 1e9)
    let head = upstreamHead
    notePassiveHealth(exchange, status: head.status, latency: latency)
    exchange.upstreamKeepAlive = head.keepAlive
    exchange.responseStatus = head.status
    exchange.responseBody = BodyReader(head.framing)
    var decision = Self.encodeDecision(for: exchange, head)
    if case .encode(let coding) = decision, let encoding = exchange.encoding {
      exchange.encoder = Self.makeEncoder(coding, encoding)
      if exchange.encoder == nil { decision = .varyOnly }  // out of memory: sent as it is
    }
    switch head.framing {
    case .chunked, .untilClose:
      if exchange.request.version == .http1_1 { exchange.chunkedToClient = true } else { exchange.closeClientAfter = true }
    case .length where exchange.encoder != nil:
      // The compressed length is not known in advance.
      if exchange.request.version == .http1_1 { exchange.chunkedToClient = true } else { exchange.closeClientAfter = true }
    case .length, .none:
      break
    }
    if !exchange.request.keepAlive || draining || !exchange.requestBodyDone { exchange.closeClientAfter = true }
    scratch.removeAll(keepingCapacity: true)
    head.encodeStatusLine(into: &scratch)
    let headerDown = exchange.route.config.headerDown
    // The client reads edge's framing, never the upstream's: one Content-Length for a body passed on as it
    // is, none for one edge chunks or ends by closing (an upstream that sent Content-Length with chunked, or
    // `5, 5`, would otherwise reach the client as two framings, or as a list). Bodiless responses (HEAD,
    // 304) keep theirs: there it describes the resource, not this message.
    let ownLength: Int?
    if case .length(let length) = head.framing, exchange.encoder == nil { ownLength = length } else { ownLength = nil }
    let dropsLength = head.framing != .none
    if headerDown.isEmpty && exchange.responseFields.isEmpty && !decision.varies {
      // One filtered pass, no rewrite of the fields.
      head.headers.writeForwarded(into: &scratch, also: dropsLength ? contentLengthField : [])
    } else {
      var headers = head.headers
      headers.removeHopByHopFields(also: dropsLength ? contentLengthField : [])
      switch decision {
      case .encode(let coding): Self.markEncoded(&headers, coding)
      case .varyOnly: Self.addVary(&headers)
      case .unchanged: break
      }
      let context = placeholders(exchange.request, upstream: exchange.target.description)
      headers.apply(headerDown, context)
      headers.apply(exchange.responseFields, context)
      headers.write(into: &scratch)
    }
    if let cookie = exchange.route.balancer.stickyCookie(for: exchange.target, request: exchange.request, secure: isSecure) {
      scratch.appendField("Set-Cookie", cookie)
    }
    if let ownLength { scratch.appendField("Content-Length", String(ownLength)) }
    if exchange.chunkedToClient { scratch.appendField("Transfer-Encoding", "chunked") }
    if exchange.closeClientAfter { scratch.appendField("Connection", "close") }
    scratch.append(contentsOf: [13, 10])
    client.write(scratch)
    exchange.responseHeadSent = true
    if exchange.responseBody.isNone {
      if !exchange.upstreamInbound.isEmpty { exchange.upstreamKeepAlive = false }
      return finishResponse(exchange)
    }
    pumpBufferedResponse(exchange)
  }

  func pumpBufferedResponse(_ exchange: ProxyExchange) {
    guard !exchange.upstreamInbound.isEmpty else { return }
    guard let (consumed, finished) = forwardResponseBody(exchange, exchange.upstreamInbound.readable) else { return }
    exchange.upstreamInbound.consume(consumed)
    if finished { finishResponse(exchange) }
  }

  func pumpResponseBody(_ exchange: ProxyExchange, _ input: UnsafeRawBufferPointer) {
    guard let (consumed, finished) = forwardResponseBody(exchange, input) else { return }
    if !finished, consumed < input.count {
      exchange.upstreamInbound.append(UnsafeRawBufferPointer(rebasing: input[consumed...]))
    }
    if finished { finishResponse(exchange) }
  }

  /// Forwards body bytes of `input` to the client. Returns how many were used and whether the body
  /// ended, or nil when the exchange was aborted.
  func forwardResponseBody(_ exchange: ProxyExchange, _ input: UnsafeRawBufferPointer) -> (Int, Bool)? {
    do {
      var sizeLine: [UInt8] = []
      let client = self.client
      let encoder = exchange.encoder
      let (consumed, finished) = try exchange.responseBody.decode(input) { data in
        exchange.bytesOut += data.count
        guard let encoder else { return client.writeBodyPiece(data, chunked: exchange.chunkedToClient, sizeLine: &sizeLine) }
        encoder.encode(data) { client.writeBodyPiece($0, chunked: exchange.chunkedToClient, sizeLine: &sizeLine) }
      }
      if finished {
        encoder?.finish { client.writeBodyPiece($0, chunked: exchange.chunkedToClient, sizeLine: &sizeLine) }
        if exchange.chunkedToClient { client.write(ChunkedEncoder.lastChunk) }
        if consumed < input.count { exchange.upstreamKeepAlive = false }  // stray bytes: not reusable
      } else if !client.isWritable {
        exchange.upstream?.stream.stopReading()
        armClientTimer(timeouts.write)
      }
      return (consumed, finished)
    } catch {
      worker.logger.warning(
        "bad response body from upstream", metadata: ["upstream": "\(exchange.target)", "error": "\(error)"])
      abort()
      return nil
    }
  }

  /// The response is complete: park or close the upstream connection, then serve the next request.
  func finishResponse(_ exchange: ProxyExchange) {
    let transport = exchange.route.config.transport
    if let upstream = exchange.upstream {
      exchange.upstream = nil
      let reusable = exchange.upstreamKeepAlive && exchange.requestBodyDone
      if reusable, let keepAlive = exchange.route.keepAliveMilliseconds {
        worker.pool.release(upstream, keepAliveMilliseconds: keepAlive, maxIdle: transport.keepAliveIdleConns)
      } else {
        upstream.close()
      }
    }
    upstreamTimer.stop()
    timer.stop()
    if requestOpen {
      logAccess(
        status: exchange.responseStatus, size: exchange.bytesOut, upstream: exchange.target.description,
        bytesRead: exchange.requestBodyBytes)
    }
    if exchange.closeClientAfter {
      closeAfterFlush()
    } else {
      becomeIdle()
      parseRequests()
    }
  }

  // MARK: Protocol switch

  func switchProtocols(_ exchange: ProxyExchange, _ head: ResponseHead) {
    guard let upstream = exchange.upstream else { return }
    upstreamTimer.stop()
    timer.stop()
    var out: [UInt8] = []
    head.encode(into: &out)
    client.write(out)
    if requestOpen { logAccess(status: head.status, size: 0, upstream: exchange.target.description) }
    exchange.upstream = nil
    self.exchange = nil
    phase = .tunnelled
    let config = exchange.route.config
    let worker = self.worker
    let tunnel = Tunnel(
      loop: loop, client: client, upstream: upstream.detach(), clientPending: inbound,
      upstreamPending: exchange.upstreamInbound, idleTimeout: config.streamIdleTimeout,
      lifetime: config.streamTimeout
    ) { id in worker.tunnelDidClose(id) }
    worker.adopt(tunnel)
    releaseResources()
    worker.connectionDidClose(self)
  }

  // MARK: Failures

  /// Ends the exchange with an error status if the response has not started, else by closing.
  func failExchange(status: Int, _ message: String) {
    guard let exchange else { return }
    if status == 502 || status == 504, exchange.selected { exchange.target.stats.meter.failed() }
    exchange.upstream?.close()
    exchange.upstream = nil
    upstreamTimer.stop()
    if exchange.responseHeadSent {
      self.exchange = nil
      return close()
    }
    self.exchange = nil
    phase = .readingHead  // so the local response path treats the connection as live
    fail(status: status, message, head: exchange.request, fields: exchange.responseFields, close: true)
  }

  func upstreamEnded(_ stream: TCPStream, error: UVError?) {
    guard let exchange, stream === exchange.upstream?.stream else { return stream.close() }
    if !exchange.responseHeadSent {
      // The request may safely run again when it is idempotent (RFC 9110 §9.2.2) and no byte of a body
      // or of an answer has moved: on a new connection to the same upstream when this was a pooled one the
      // upstream closed while idle, else on the next upstream (the upstream died or dropped it). A request
      // that met a dead upstream and then a stale pooled connection to the next one is still answered.
      if let conn = exchange.upstream, !exchange.receivedAnything, exchange.requestBodyBytes == 0,
        idempotentMethods.contains(exchange.request.method)
      {
        conn.close()
        exchange.upstream = nil
        // A fresh connection is never `reused`, so this retries each upstream at most once.
        if conn.reused { return connectUpstream(exchange, fresh: true) }
        exchange.route.balancer.recordFailure(of: exchange.target)
        if tryNextUpstream(exchange) { return }
      } else if let conn = exchange.upstream, !conn.reused || exchange.receivedAnything {
        exchange.route.balancer.recordFailure(of: exchange.target)
      }
      worker.logger.warning(
        "upstream closed before responding",
        metadata: ["upstream": "\(exchange.target)", "error": "\(error.map { "\($0)" } ?? "EOF")"])
      return failExchange(status: 502, "upstream closed the connection")
    }
    if error == nil, case .untilClose = exchange.responseBody {
      exchange.upstreamKeepAlive = false
      if exchange.chunkedToClient { client.write(ChunkedEncoder.lastChunk) }
      return finishResponse(exchange)
    }
    worker.logger.warning("upstream response truncated", metadata: ["upstream": "\(exchange.target)"])
    abort()
  }

  func upstreamDidDrain(_ stream: TCPStream) {
    guard let exchange, stream === exchange.upstream?.stream, !exchange.requestBodyDone else { return }
    resumeRequestBody(exchange)
  }

  func armUpstreamTimer(_ exchange: ProxyExchange) {
    upstreamTimer.start(after: exchange.route.responseHeaderMilliseconds)
  }

  func upstreamTimedOut() {
    guard let exchange else { return }
    if exchange.waitingToRetry { return lookAgain(exchange) }
    guard !exchange.responseHeadSent else { return }
    worker.logger.warning("upstream response timed out", metadata: ["upstream": "\(exchange.target)"])
    exchange.route.balancer.recordFailure(of: exchange.target)
    failExchange(status: 504, "upstream timed out")
  }

  func exchangeClientTimedOut() {
    guard let exchange else { return }
    if !exchange.requestBodyDone && !exchange.responseHeadSent {
      return failExchange(status: 408, "request body timeout")
    }
    abort()  // the client stopped taking the response
  }

  /// The client hung up or failed: cancel the upstream request.
  func clientGone() {
    if phase == .proxying, let exchange {
      worker.logger.debug("client gone; upstream request cancelled", metadata: ["upstream": "\(exchange.target)"])
    }
    abort()
  }

  func clientDidDrain() {
    if phase == .sendingFile {
      timer.stop()
      pumpFile()
      // The file is out: requests pipelined behind it are already buffered, with no read to wake them.
      if phase == .idle { parseRequests() }
      return
    }
    guard let exchange, exchange.responseHeadSent else { return }
    timer.stop()
    exchange.upstream?.stream.startReading()
  }
}

/// An upstream socket's events, entered into the connection's isolation.
final class UpstreamEvents: TCPStreamDelegate {
  let connection: HTTPConnection
  init(_ connection: HTTPConnection) { self.connection = connection }

  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    nonisolated(unsafe) let bytes = bytes
    connection.assumeIsolated { $0.upstreamDidRead(stream, bytes) }
  }
  func streamDidReachEOF(_ stream: TCPStream) {
    connection.assumeIsolated { $0.upstreamEnded(stream, error: nil) }
  }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) {
    connection.assumeIsolated { $0.upstreamEnded(stream, error: error) }
  }
  func streamDidDrain(_ stream: TCPStream) {
    connection.assumeIsolated { $0.upstreamDidDrain(stream) }
  }
}

/// The X-Forwarded-* a trusted proxy sent: every X-Forwarded-For line joined, the last -Proto and -Host.
struct PriorForwarding {
  let forwardedFor: String?
  let proto: String?
  let host: String?

  init(_ headers: HTTPHeaders) {
    let chain = headers.values("X-Forwarded-For").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    forwardedFor = chain.isEmpty ? nil : chain.joined(separator: ", ")
    proto = headers.values("X-Forwarded-Proto").last.map(\.trimmingSpaces).flatMap { $0.isEmpty ? nil : $0 }
    host = headers.values("X-Forwarded-Host").last.map(\.trimmingSpaces).flatMap { $0.isEmpty ? nil : $0 }
  }
}

extension String {
  fileprivate var trimmingSpaces: String {
    var text = Substring(self)
    while text.first == " " || text.first == "\t" { text = text.dropFirst() }
    while text.last == " " || text.last == "\t" { text = text.dropLast() }
    return String(text)
  }
}
