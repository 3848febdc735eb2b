import EdgeAuth
import EdgeConfig
import EdgeCore
import EdgeHTTP1
import EdgeLoop
import EdgeMetrics
import EdgeProxy
import Logging

/// One client connection: HTTP/1.1 requests in order (keep-alive, pipelining), each routed to a local
/// response or proxied upstream, until it closes or switches protocols into a `Tunnel`.
///
/// Isolated to its worker's loop. The socket's callbacks already run there and enter with
/// `assumeIsolated`: no task and no hop per read.
public actor HTTPConnection {
  public nonisolated let loop: EventLoop
  public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

  enum Phase {
    /// Between requests: no byte of the next one yet.
    case idle
    /// Some bytes of a request head have arrived.
    case readingHead
    /// A request is being proxied (`exchange`).
    case proxying
    /// A file body is being sent (`fileTransfer`).
    case sendingFile
    /// `basic_auth` credentials, or an ACME answer in shared storage, are being looked up off the loop.
    case authenticating
    case tunnelled
    case closed
  }

  let worker: Worker
  let client: TCPStream
  let port: Int
  /// The peer's address — the client's, as a load balancer's PROXY header gave it, when one did.
  let remoteIP: String
  /// The addresses a PROXY header gave the connection (source: the client; destination: where it
  /// connected), nil when it had none; the PROXY header edge writes to upstreams repeats them.
  let proxiedSource: ProxyEndpoint?
  let proxiedDestination: ProxyEndpoint?
  /// The current request's client: `remoteIP`, or the address a trusted proxy forwarded
  /// (`trusted_proxies`). Matched by `client_ip`, logged as `client_ip`, `{client_ip}`.
  var clientIP: String
  /// `trusted_proxies` and `client_ip_headers`, from the table the connection started with.
  let forwarding: ClientForwarding
  /// Whether the peer is a trusted proxy, decided once per connection.
  let peerTrusted: Bool
  /// Pool keys of upstream connections that carry this connection's PROXY header: closed with it.
  var ownUpstreamKeys: [PoolKey] = []
  /// Whether the client speaks TLS to edge (`X-Forwarded-Proto`, redirects).
  let isSecure: Bool
  let inbound = ByteBuffer()
  /// Upstream bytes not yet consumed; reused by each exchange. Allocated at the first proxied response
  /// (connections answered locally, or idle, never need it).
  let upstreamInbound = ByteBuffer(capacity: 0)
  var parser: RequestHeadParser
  var phase = Phase.idle
  var exchange: ProxyExchange?
  var fileTransfer: FileTransfer?
  /// Header-read, idle, body-read and write timeouts of the client side.
  let timer: DeadlineTimer
  /// The response-header timeout of the upstream side.
  let upstreamTimer: DeadlineTimer
  /// Scratch space for encoding heads; its bytes are copied out by `write`, so it is reused at once.
  var scratch: [UInt8] = []
  /// The current exchange's request head as sent upstream (kept for a retry on a fresh connection).
  var upstreamHead: [UInt8] = []
  /// The last Host looked up and its site, with the table it came from: a keep-alive connection asks
  /// for the same host again and again.
  var lastHost: String?
  var lastSite: CompiledSite?
  var lastTable: RouteTable?
  var draining = false
  /// The site answering the current request and the `root` its routes chose, for `handle_errors`.
  var currentSite: CompiledSite?
  var currentRoot: String?
  /// Regexp groups of the current request's matchers.
  var currentCaptures = RegexCaptures()
  /// Set while `handle_errors` routes answer: the error they answer for.
  var currentError: RequestError?
  /// The current request's access-log line, written when its response is complete.
  var accessRecord: AccessRecord?
  /// The current request's series (nil with `metrics off`), what answers it, and when it began.
  var meter: SiteMeter?
  var meterHandler = MeteredHandler.other
  var meterMethod = ""
  var requestStart: UInt64 = 0
  /// The request's Content-Length: the body size counted when no proxy counted what it forwarded.
  var declaredBodyLength = 0
  /// A request is under way whose end is logged or measured.
  var requestOpen: Bool { accessRecord != nil || meter != nil }
  /// The `basic_auth` gate that last accepted credentials on this connection, and the field it accepted.
  var grantedOnConnection: (gate: BasicAuthenticator, authorization: String)?
  var limits: ServerOptions
  /// This connection's place among its worker's waiting connections (see `WaitingConnections`), and
  /// whether the worker counts it as waiting now.
  var waitTicket: UInt64 = 0
  var countedWaiting = false
  /// No request of this connection is under way: it may give way at `max_connections`.
  var isWaiting: Bool { phase == .idle || phase == .readingHead }
  /// The client-side timeouts in milliseconds, converted once per connection.
  let timeouts: ClientTimeouts
  /// This connection carries one HTTP/2 stream (`HTTP2Stream`): it never waits at `max_connections`
  /// (its session does) and its requests are logged as HTTP/2.
  let http2: Bool
  /// The first bytes were checked for the HTTP/2 preface (or could not be one).
  var prefaceChecked = false

  /// `source`/`destination`: the client's and edge's addresses when they are not the socket's (a PROXY
  /// header; an HTTP/2 stream, whose socketless stream gets its session's). `isSecure` defaults to the
  /// socket's.
  init(
    worker: Worker, client: TCPStream, port: Int, source: ProxyEndpoint? = nil, destination: ProxyEndpoint? = nil,
    isSecure: Bool? = nil, http2: Bool = false
  ) {
    let loop = worker.loop
    let table = worker.routes
    let limits = table.config.global.servers
    self.loop = loop
    self.worker = worker
    self.client = client
    self.port = port
    let remoteIP = source?.ip ?? client.peerIP() ?? "-"
    self.remoteIP = remoteIP
    self.clientIP = remoteIP
    self.proxiedSource = source
    self.proxiedDestination = destination
    self.forwarding = table.forwarding
    self.peerTrusted = table.forwarding.trusts(remoteIP)
    self.isSecure = isSecure ?? (client.security != nil)
    self.http2 = http2
    self.prefaceChecked = http2
    self.limits = limits
    self.timeouts = ClientTimeouts(limits)
    self.parser = RequestHeadParser(limits: HTTP1Limits(limits))
    let timer = DeadlineTimer(loop: loop)
    self.timer = timer
    let upstreamTimer = DeadlineTimer(loop: loop)
    self.upstreamTimer = upstreamTimer
    client.delegate = ConnectionEvents(self)
    client.startReading()
    // Handlers are set once; re-arming per request allocates nothing.
    timer.setHandler { [weak self] in self?.assumeIsolated { $0.clientTimedOut() } }
    timer.start(after: ClientTimeouts(limits).readHeader)
    upstreamTimer.setHandler { [weak self] in self?.assumeIsolated { $0.upstreamTimedOut() } }
  }

  // MARK: Reading requests

  func clientDidRead(_ bytes: UnsafeRawBufferPointer) {
    switch phase {
    case .idle, .readingHead:
      inbound.append(bytes)
      if !prefaceChecked, startsHTTP2() { return }
      parseRequests()
    case .sendingFile, .authenticating:
      // A pipelined request (or this one's body) waits; stop reading once a whole head's worth is queued.
      inbound.append(bytes)
      if inbound.count > limits.maxHeaderBytes { client.stopReading() }
    case .proxying:
      inbound.append(bytes)
      pumpRequestBody()
      // Bytes of a pipelined request wait; stop reading once a whole head's worth is queued. So does a
      // body while no upstream takes it (a dial, or a wait for lb_try_interval).
      if exchange?.requestBodyDone ?? true || exchange?.upstream == nil, inbound.count > limits.maxHeaderBytes {
        client.stopReading()
      }
    case .tunnelled, .closed:
      break
    }
  }

  /// Parses and handles buffered requests until one needs to wait (more bytes, or an upstream).
  func parseRequests() {
    while phase == .idle || phase == .readingHead {
      if inbound.isEmpty {
        if draining { return close() }
        return
      }
      let result = parser.parse(inbound.readable)
      switch result {
      case .needMoreBytes:
        if phase == .idle {
          phase = .readingHead
          armClientTimer(timeouts.readHeader)
        }
        client.startReading()
        return
      case .invalid(let error):
        worker.logger.debug("bad request", metadata: ["remote": "\(remoteIP)", "error": "\(error)"])
        return respondLocally(status: error.status, body: StatusText.reason(error.status) + "\n", request: nil, close: true)
      case .complete(let head, let consumed):
        inbound.consume(consumed)
        parser.reset()
        route(head)
      }
    }
  }

  // MARK: Routing

  func route(_ head: RequestHead, challengeChecked: Bool = false) {
    timer.stop()
    stopWaiting()
    currentError = nil
    if peerTrusted { clientIP = forwarding.clientIP(head.headers, peer: remoteIP) }
    if head.method == "CONNECT" {
      // A reverse proxy opens no tunnels. Forwarded, a CONNECT a backend accepted would turn a pooled
      // upstream connection into a tunnel the next request from another client would go through.
      return respondLocally(status: 501, body: "CONNECT is not supported\n", request: head, close: true)
    }
    if !challengeChecked, head.path.utf8.count > HTTPChallenges.prefix.utf8.count,
      head.path.utf8.starts(with: HTTPChallenges.prefix.utf8)
    {
      switch worker.challenges.lookup(forPath: String(OriginTarget.split(head.path).path)) {
      case .answer(let answer):
        worker.logger.info("answered an ACME HTTP-01 validation", metadata: ["host": "\(head.host ?? "-")", "remote": "\(remoteIP)"])
        return respondLocally(status: 200, body: Array(answer.utf8), request: head, close: false)
      case .askShared(let token):
        return askSharedChallenge(token, head: head)
      case .none:
        break
      }
    }
    let table = worker.routes
    var resolution = RouteResolution()
    var path = head.path
    let site: CompiledSite? = path.withUTF8 { raw in
      let end = raw.firstIndex(of: UInt8(ascii: "?")) ?? raw.count
      let rawPath = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[0..<end])
      // Matchers see the decoded, cleaned path (see `MatchPath`); most paths are already that.
      guard let normal = MatchPath.normalized(rawPath) else { return resolveSite(head, rawPath, table, &resolution) }
      return normal.withUnsafeBytes { resolveSite(head, $0, table, &resolution) }
    }
    guard let site else {
      currentSite = nil
      if let unmatched = table.unmatchedMeter { startMeasuring(unmatched, head) }
      return respondLocally(status: 404, body: "no site for this host\n", request: head, close: false)
    }
    currentSite = site
    if site.meter != nil || site.accessLog != nil {
      let start = monotonicNanoseconds()
      if let meter = site.meter { startMeasuring(meter, head, at: start) }
      accessRecord = site.accessLog.map {
        AccessRecord(
          logger: $0, head: head, remoteIP: remoteIP, clientIP: clientIP, secure: isSecure, start: start, http2: http2)
      }
    }
    currentRoot = resolution.root
    currentCaptures = resolution.captures
    if let bodyLimit = resolution.bodyLimit, case .length(let n) = head.framing, n > bodyLimit {
      return fail(status: 413, "request body too large", head: head, fields: resolution.responseFields, close: true)
    }
    var head = head
    let originalTarget = head.path
    if let target = resolution.target {
      // handle_path, rewrite, uri: the rest of the request (upstream, file_server) sees the new target.
      head.path = target
    }
    if !resolution.authenticators.isEmpty {
      return authenticate(resolution, head: head, originalTarget: originalTarget)
    }
    dispatch(resolution, head: head, originalTarget: originalTarget)
  }

  /// The site for the request's Host and path, with its routes resolved into `resolution`.
  private func resolveSite(
    _ head: RequestHead, _ pathOnly: UnsafeRawBufferPointer, _ table: RouteTable, _ resolution: inout RouteResolution
  ) -> CompiledSite? {
    let site: CompiledSite
    if let lastSite, lastTable === table, lastHost == head.host {
      site = lastSite
    } else {
      guard let listener = table.listeners[port], let found = listener.site(forHost: head.host, path: pathOnly)
      else { return nil }
      site = found
      // Remember the answer only when the Host alone decides it.
      if !listener.hasPathSites { (lastSite, lastTable, lastHost) = (found, table, head.host) }
    }
    resolution.resolve(site.routes, path: pathOnly, MatchRequest(head: head, secure: isSecure, remoteIP: remoteIP, clientIP: clientIP))
    return site
  }

  func startMeasuring(_ meter: SiteMeter, _ head: RequestHead, at start: UInt64 = monotonicNanoseconds()) {
    self.meter = meter
    meterHandler = .other
    meterMethod = head.method
    requestStart = start
    if case .length(let n) = head.framing { declaredBodyLength = n } else { declaredBodyLength = 0 }
  }

  /// Runs the handler the routes chose.
  func dispatch(_ resolution: RouteResolution, head: RequestHead, originalTarget: String) {
    let responseFields = resolution.responseFields
    if meter != nil, currentError == nil { meterHandler = Self.meteredHandler(resolution.handler) }
    switch resolution.handler {
    case .respond(let response):
      // Inside handle_errors, a respond without a status answers with the error's.
      let status = response.statusGiven ? response.status : currentError?.status ?? response.status
      let text = response.hasPlaceholders ? Array(Placeholders.expand(response.text, placeholders(head)).utf8) : response.body
      let (body, encoded) = encodeLocal(text, status: status, request: head, encoding: resolution.encoding)
      respondLocally(status: status, body: body, request: head, close: response.close, fields: encoded + responseFields)
    case .proxy(let route):
      if currentError != nil, head.framing != .none {
        // The request body is gone (or half read): it cannot be sent to an error page's upstream.
        return respondError(currentError!, head: head, fields: responseFields)
      }
      startProxy(head, route: route, bodyLimit: resolution.bodyLimit, responseFields: responseFields)
      exchange?.encoding = resolution.encoding
    case .redirectToHTTPS(let httpsPort):
      redirectToHTTPS(head, port: httpsPort)
    case .redirect(let redirect):
      let location = Placeholders.expand(redirect.to, placeholders(head))
      respondLocally(
        status: redirect.status, body: Array("redirecting to \(location)\n".utf8), request: head, close: false,
        location: location, fields: responseFields)
    case .fileServer(let config):
      serveFile(
        head, config: config, root: resolution.root, fields: responseFields, originalTarget: originalTarget,
        encoding: resolution.encoding)
    case .abort:
      worker.logger.debug("abort", metadata: ["remote": "\(remoteIP)", "path": "\(head.path)"])
      abort()
    case .metrics:
      respondLocally(
        status: 200, body: EdgeMetrics.exposition(), request: head, close: false,
        fields: [HeaderOperation(kind: .set, name: "Content-Type", value: EdgeMetrics.contentType)] + responseFields)
    case .error(let error):
      fail(status: error.status, error.message, head: head, fields: responseFields)
    case .requestBody, .headers, .root, .group, .route, .rewrite, .tryFiles, .encode, .basicAuth, nil:
      fail(status: 404, "", head: head, fields: responseFields)
    }
  }

  /// A handler failed with `status`: the site's `handle_errors` routes for it answer when it has them
  /// (once: an error inside them gets the plain response), else a plain-text response.
  /// `close`: the connection cannot carry another request (a request body was not, or not wholly, read).
  func fail(status: Int, _ message: String, head: RequestHead, fields: [HeaderOperation], close: Bool = false) {
    let error = RequestError(status: status, message: message, close: close || currentError?.close == true)
    guard currentError == nil, let routes = currentSite?.errorRoutes(for: status) else {
      return respondError(error, head: head, fields: fields)
    }
    currentError = error
    var resolution = RouteResolution()
    // What the site's routes set on the way (root, response fields such as a 401's challenge) holds for
    // its error routes too, as in Caddy.
    resolution.root = currentRoot
    resolution.responseFields = fields
    resolution.captures = currentCaptures
    var path = String(OriginTarget.split(head.path).path)
    let request = MatchRequest(head: head, secure: isSecure, remoteIP: remoteIP, clientIP: clientIP, error: error)
    _ = path.withUTF8 { raw in
      let rawPath = UnsafeRawBufferPointer(raw)
      guard let normal = MatchPath.normalized(rawPath) else { return resolution.resolve(routes, path: rawPath, request) }
      return normal.withUnsafeBytes { resolution.resolve(routes, path: $0, request) }
    }
    guard resolution.handler != nil else { return respondError(error, head: head, fields: fields) }
    currentCaptures = resolution.captures
    var errorHead = head
    if let target = resolution.target { errorHead.path = target }
    dispatch(resolution, head: errorHead, originalTarget: head.path)
  }

  /// The plain response for an error.
  func respondError(_ error: RequestError, head: RequestHead, fields: [HeaderOperation]) {
    let text = error.message.isEmpty ? StatusText.reason(error.status) + "\n" : error.message + "\n"
    respondLocally(status: error.status, body: Array(text.utf8), request: head, close: error.close, fields: fields)
  }

  /// Automatic HTTPS: 308 to the same host and request target over HTTPS (the method and body are kept
  /// by a 308, unlike a 301).
  func redirectToHTTPS(_ head: RequestHead, port: Int) {
    let host = head.host.map(ListenerRoutes.hostOnly) ?? ""
    let authority = host.contains(":") ? "[\(host)]" : host
    var target = head.path
    if !target.hasPrefix("/") { target = "/" + target }
    let location = "https://\(authority)\(port == 443 ? "" : ":\(port)")\(target)"
    respondLocally(
      status: 308, body: Array("redirecting to \(location)\n".utf8), request: head, close: false, location: location)
  }

  /// What placeholders in this site's values mean for `request`.
  func placeholders(_ request: RequestHead, upstream: String? = nil) -> PlaceholderContext {
    PlaceholderContext(
      request: request, scheme: isSecure ? "https" : "http", remoteIP: remoteIP, upstream: upstream, error: currentError,
      captures: currentCaptures, clientIP: clientIP)
  }

  // MARK: Local responses

  func respondLocally(status: Int, body: String, request: RequestHead?, close: Bool) {
    respondLocally(status: status, body: Array(body.utf8), request: request, close: close)
  }

  /// Writes a complete response. A request body that was not read, or any reason to close, closes the
  /// connection after the response.
  /// `fields`: the site's `header` operations, applied to Content-Type and Location (edge writes Date
  /// before and the framing fields after them).
  func respondLocally(
    status: Int, body: [UInt8], request: RequestHead?, close: Bool, location: String? = nil,
    fields: [HeaderOperation] = []
  ) {
    let mustClose =
      close || currentError?.close == true || draining || request == nil || !(request!.keepAlive) || request!.framing != .none
    scratch.removeAll(keepingCapacity: true)
    scratch.append(contentsOf: "HTTP/1.1 \(status) \(StatusText.reason(status))\r\n".utf8)
    if fields.isEmpty {
      // RFC 9110 §6.6.1: a server with a clock sends Date (edge answers as the origin here).
      scratch.append(contentsOf: worker.date.field)
      if let location { scratch.append(contentsOf: "Location: \(location)\r\n".utf8) }
      scratch.append(contentsOf: "Content-Type: text/plain; charset=utf-8\r\n".utf8)
    } else {
      var headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")])
      if let location { headers.add("Location", location) }
      if let request { headers.apply(fields, placeholders(request)) } else { headers.apply(fields) }
      scratch.append(contentsOf: worker.date.field)
      headers.write(into: &scratch)
    }
    scratch.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
    if mustClose { scratch.append(contentsOf: "Connection: close\r\n".utf8) }
    scratch.append(contentsOf: "\r\n".utf8)
    if request?.method != "HEAD" { scratch.append(contentsOf: body) }
    client.write(scratch)
    if requestOpen { logAccess(status: status, size: request?.method == "HEAD" ? 0 : body.count) }
    if mustClose {
      closeAfterFlush()
    } else {
      becomeIdle()
    }
  }

  /// Ready for the next request on this connection.
  func becomeIdle() {
    phase = .idle
    exchange = nil
    currentError = nil
    if draining && inbound.isEmpty { return closeAfterFlush() }
    startWaiting()
    armClientTimer(inbound.isEmpty ? timeouts.idle : timeouts.readHeader)
    client.startReading()
  }

  // MARK: Timeouts

  func armClientTimer(_ milliseconds: UInt64) {
    timer.start(after: milliseconds)
  }

  func clientTimedOut() {
    switch phase {
    case .idle:
      close()
    case .readingHead:
      respondLocally(status: 408, body: "request header timeout\n", request: nil, close: true)
    case .proxying:
      exchangeClientTimedOut()
    case .sendingFile:
      worker.logger.debug("client stopped reading a file response", metadata: ["remote": "\(remoteIP)"])
      abort()
    case .authenticating:
      break
    case .tunnelled, .closed:
      break
    }
  }

  // MARK: Closing

  /// Shutdown has begun: finish the request under way, then close.
  func drain() {
    draining = true
    if phase == .idle && inbound.isEmpty { close() }
  }

  /// No request of this connection is under way from now (accepted, or between requests): it may give way
  /// at `max_connections`.
  func startWaiting() {
    if http2 { return }
    waitTicket = worker.startsWaiting(self)
    if !countedWaiting {
      countedWaiting = true
      worker.waitingNow += 1
    }
  }

  /// A request started, or the connection closes.
  func stopWaiting() {
    if countedWaiting {
      countedWaiting = false
      worker.waitingNow -= 1
    }
  }

  /// Closes a connection that has no request under way, to make room for a new one at `max_connections`.
  func evict() {
    worker.logger.debug("connection evicted at max_connections", metadata: ["remote": "\(remoteIP)"])
    close()
  }

  /// Closes now, abandoning any exchange.
  func abort() {
    exchange?.upstream?.close()
    close()  // logs what was sent, if the site logs
    exchange = nil
    fileTransfer = nil
  }

  /// Closes once the response is out. The worker counts the connection until the socket is released,
  /// so shutdown never exits with a response still queued.
  func closeAfterFlush() {
    guard phase != .closed else { return }
    phase = .closed
    stopWaiting()
    releaseResources()
    let worker = self.worker
    client.closeAfterFlush { worker.connectionDidClose(self) }
  }

  func close() {
    guard phase != .closed else { return }
    phase = .closed
    stopWaiting()
    releaseResources()
    let worker = self.worker
    client.close { worker.connectionDidClose(self) }
  }

  /// Counts the current request and writes its access line, once.
  func logAccess(status: Int, size: Int, upstream: String? = nil, bytesRead: Int = 0) {
    if let meter {
      self.meter = nil
      meter.record(
        handler: meterHandler, method: meterMethod, status: status,
        seconds: Double(monotonicNanoseconds() &- requestStart) / 1e9, bytesIn: bytesRead > 0 ? bytesRead : declaredBodyLength,
        bytesOut: size)
    }
    guard var record = accessRecord else { return }
    accessRecord = nil
    record.bytesRead = bytesRead
    record.logger.log(record, status: status, size: size, upstream: upstream, into: worker.accessLog)
  }

  /// Everything a closing connection lets go of: its timers and a file body in flight. A request cut
  /// short is still logged, with what was sent of it (status 0 when no response head went out).
  func releaseResources() {
    if requestOpen, let transfer = fileTransfer {
      logAccess(status: transfer.status, size: transfer.length - transfer.remaining)
    }
    if requestOpen {
      let sent = exchange.map { ($0.responseStatus, $0.bytesOut, $0.selected ? $0.target.description : nil, $0.requestBodyBytes) }
      logAccess(status: sent?.0 ?? 0, size: sent?.1 ?? 0, upstream: sent.flatMap { $0.2 }, bytesRead: sent?.3 ?? 0)
    }
    fileTransfer = nil
    timer.close()
    upstreamTimer.close()
    // Upstream connections that carry this client's PROXY header can serve nobody else.
    for key in ownUpstreamKeys { worker.pool.closeIdle(key: key) }
    ownUpstreamKeys.removeAll()
  }
}

/// An error a handler ended a request with (`{err.*}` placeholders).
struct RequestError {
  let status: Int
  let message: String
  /// The connection closes after the response.
  let close: Bool
}

/// The client socket's events, entered into the connection's isolation (same loop, no hop).
final class ConnectionEvents: TCPStreamDelegate {
  let connection: HTTPConnection
  init(_ connection: HTTPConnection) { self.connection = connection }

  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    nonisolated(unsafe) let bytes = bytes
    connection.assumeIsolated { $0.clientDidRead(bytes) }
  }
  func streamDidReachEOF(_ stream: TCPStream) {
    connection.assumeIsolated { $0.clientGone() }
  }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) {
    connection.assumeIsolated { $0.clientGone() }
  }
  func streamDidDrain(_ stream: TCPStream) {
    connection.assumeIsolated { $0.clientDidDrain() }
  }
}

extension HTTP1Limits {
  init(_ options: ServerOptions) {
    self.init(
      maxHeadBytes: options.maxHeaderBytes, maxURIBytes: options.maxURIBytes,
      maxHeaderCount: options.maxHeaderCount)
  }
}

/// `ServerOptions` timeouts as loop milliseconds.
struct ClientTimeouts {
  let readHeader: UInt64
  let readBody: UInt64
  let write: UInt64
  let idle: UInt64
  /// `min_body_rate`, bytes per second (0: off).
  let minBodyRate: Int
  init(_ options: ServerOptions) {
    readHeader = options.readHeaderTimeout.milliseconds
    readBody = options.readBodyTimeout.milliseconds
    write = options.writeTimeout.milliseconds
    idle = options.idleTimeout.milliseconds
    minBodyRate = options.minBodyRate
  }
}

extension HTTPConnection {
  /// Whether the connection's first bytes are (or may yet be) the HTTP/2 preface, when this listener
  /// serves HTTP/2: `h2` over TLS (a client that chose h2 by ALPN sends it first), `h2c` in the clear. True
  /// when the bytes were handed to a new `HTTP2Session` or more are needed to tell.
  func startsHTTP2() -> Bool {
    let preface = HTTP2Session.preface
    let readable = inbound.readable
    let n = min(readable.count, preface.count)
    guard readable.prefix(n).elementsEqual(preface.prefix(n)) else {
      prefaceChecked = true
      return false
    }
    if n < preface.count { return true }
    prefaceChecked = true
    guard limits.protocols.contains(isSecure ? "h2" : "h2c") else { return false }
    timer.stop()
    stopWaiting()
    phase = .tunnelled
    let session = HTTP2Session(
      worker: worker, client: client, port: port, remoteIP: remoteIP,
      source: proxiedSource ?? client.peerEndpoint().flatMap { ProxyEndpoint(ip: $0.ip, port: $0.port) },
      destination: proxiedDestination ?? client.localEndpoint().flatMap { ProxyEndpoint(ip: $0.ip, port: $0.port) },
      isSecure: isSecure, settings: HTTP2Settings(limits))
    worker.adopt(session)
    let started = session.start(readable)
    inbound.removeAll()
    releaseResources()
    worker.connectionDidClose(self)
    if !started {
      worker.logger.error("cannot start an HTTP/2 session", metadata: ["remote": "\(remoteIP)"])
      session.close()
    }
    return true
  }
}
