import CNghttp2
import EdgeCore
import EdgeHTTP1
import EdgeLoop

/// One HTTP/2 request stream, seen by an `HTTPConnection` of its own as an HTTP/1.1 connection carrying
/// one request: the stream's HEADERS become a request head, its DATA the body (chunked when the client
/// gave no content-length), and the connection's HTTP/1.1 response is read back into HEADERS and DATA.
///
/// An extended CONNECT for WebSockets (RFC 8441) becomes an HTTP/1.1 Upgrade; the upstream's 101 becomes
/// a 200 and the stream then carries the WebSocket bytes both ways, through the same `Tunnel` as an
/// HTTP/1.1 upgrade.
final class HTTP2Stream: StreamPipe {
  unowned let session: HTTP2Session
  let id: Int32
  /// The stream's end of the pipe: the connection reads and writes it.
  private(set) var virtual: TCPStream!

  // MARK: Request

  private var method = ""
  private var path = ""
  private var authority: String?
  private var upgradeProtocol: String?
  /// Regular fields as HTTP/1.1 lines, and the cookie crumbs to join (RFC 9113 §8.2.3).
  private var fields: [UInt8] = []
  private var cookies: [UInt8] = []
  private var hasContentLength = false
  private var fieldBytes = 0
  private var fieldCount = 0
  private var tooLarge = false
  private var started = false
  /// The request body goes to the connection chunked (no content-length came).
  private var chunked = false
  private var requestDone = false
  /// Request bytes for the connection, sent while it reads.
  private let input = ByteBuffer(capacity: 0)
  /// DATA bytes received and not yet acknowledged to the client (window).
  private var unacknowledged = 0
  private var eofPending = false
  private var pumpQueued = false

  // MARK: Response

  private enum Response {
    case head, body, tunnel, done
  }
  private var response = Response.head
  private let headBytes = ByteBuffer(capacity: 0)
  private var parser = ResponseHeadParser(limits: HTTP1Limits(maxHeadBytes: 256 * 1024, maxURIBytes: 8192, maxHeaderCount: 1000))
  private var body = BodyReader.none
  /// Body bytes waiting for nghttp2's DATA frames.
  private let output = ByteBuffer(capacity: 0)
  private var outputFinished = false
  private var deferred = false
  private var drainNoted = false
  private var resetSent = false
  /// The whole response is framed (END_STREAM queued) or the stream was reset.
  private(set) var responseComplete = false

  init(session: HTTP2Session, id: Int32) {
    self.session = session
    self.id = id
  }

  /// Body bytes are still wanted: the request went to a connection that is still open.
  var acceptsBody: Bool { started && !virtual.isClosed && !requestDone }

  // MARK: Request head

  func header(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
    guard !tooLarge else { return }
    // RFC 9113 §6.5.2's accounting: name, value and 32 bytes per field.
    fieldBytes += name.count + value.count + 32
    fieldCount += 1
    if fieldBytes > session.settings.maxHeaderListSize || fieldCount > session.settings.maxHeaderCount + 5 {
      tooLarge = true
      fields = []
      cookies = []
      return
    }
    // nghttp2 has checked the names (lower case, no pseudo-field after a regular one) and the values (no
    // CR, LF or NUL), so they can be written as HTTP/1.1 lines as they are.
    if name.first == UInt8(ascii: ":") {
      let text = String(decoding: value, as: UTF8.self)
      switch String(decoding: name, as: UTF8.self) {
      case ":method": method = text
      case ":path": path = text
      case ":authority": authority = text
      case ":protocol": upgradeProtocol = text
      default: break  // :scheme: the connection knows whether it is secure
      }
      return
    }
    if name.elementsEqual("cookie".utf8) {
      if !cookies.isEmpty { cookies.append(contentsOf: [59, 32]) }  // "; "
      cookies.append(contentsOf: value)
      return
    }
    if name.elementsEqual("host".utf8) {
      if authority == nil { authority = String(decoding: value, as: UTF8.self) }
      return
    }
    if name.elementsEqual("te".utf8) { return }  // "trailers" at most: edge forwards none
    if name.elementsEqual("content-length".utf8) { hasContentLength = true }
    fields.append(contentsOf: name)
    fields.append(contentsOf: [58, 32])
    fields.append(contentsOf: value)
    fields.append(contentsOf: [13, 10])
  }

  /// The request head is complete: hand it to a new connection.
  func headersComplete(endStream: Bool) {
    guard !started else { return }
    started = true
    if tooLarge {
      responseComplete = true
      response = .done
      _ = submit(nil, status: 431, withBody: false)
      return
    }
    var head: [UInt8] = []
    head.reserveCapacity(fields.count + cookies.count + path.utf8.count + 128)
    let isWebSocket = method == "CONNECT" && upgradeProtocol?.lowercased() == "websocket"
    if method == "CONNECT" && upgradeProtocol != nil && !isWebSocket {
      responseComplete = true
      response = .done
      _ = submit(nil, status: 501, withBody: false)
      return
    }
    let requestLine = isWebSocket ? "GET \(path)" : method == "CONNECT" ? "CONNECT \(authority ?? "")" : "\(method) \(path)"
    head.append(contentsOf: requestLine.utf8)
    head.append(contentsOf: " HTTP/1.1\r\n".utf8)
    if let authority {
      head.append(contentsOf: "Host: ".utf8)
      head.append(contentsOf: authority.utf8)
      head.append(contentsOf: [13, 10])
    }
    head.append(contentsOf: fields)
    if !cookies.isEmpty {
      head.append(contentsOf: "Cookie: ".utf8)
      head.append(contentsOf: cookies)
      head.append(contentsOf: [13, 10])
    }
    if isWebSocket {
      // The upstream speaks HTTP/1.1 WebSockets: it wants a key, and its accept value is not passed on
      // (RFC 8441 §5 has none).
      head.append(contentsOf: "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ".utf8)
      head.append(contentsOf: Self.webSocketKey().utf8)
      head.append(contentsOf: [13, 10])
    } else {
      // One request per connection: it closes once the response is out.
      head.append(contentsOf: "Connection: close\r\n".utf8)
    }
    if endStream {
      requestDone = true
    } else if !hasContentLength && !isWebSocket {
      chunked = true
      head.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
    }
    head.append(contentsOf: [13, 10])
    fields = []
    cookies = []
    input.append(head)
    virtual = TCPStream(loop: session.worker.loop, pipe: self)
    // Its init starts reading, which queues the head for the next flush (never delivered from inside
    // nghttp2's callback, nor during the connection's own init).
    let connection = HTTPConnection(
      worker: session.worker, client: virtual, port: session.port, source: session.source,
      destination: session.destination, isSecure: session.isSecure, http2: true)
    _ = connection
  }

  private static func webSocketKey() -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var i = 0
    while i + 3 <= bytes.count {
      let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
      for shift in [18, 12, 6, 0] { out.append(alphabet[Int(v >> UInt32(shift) & 63)]) }
      i += 3
    }
    // 16 bytes: one left over, two characters and two pads.
    let v = UInt32(bytes[15]) << 16
    out += [alphabet[Int(v >> 18 & 63)], alphabet[Int(v >> 12 & 63)], 61, 61]
    return String(decoding: out, as: UTF8.self)
  }

  /// Submits a response head (`:status` and the HTTP/1.1 head's fields less the hop-by-hop ones, names
  /// in lower case) as HEADERS; `interim` for a 1xx, `withBody` when DATA follows.
  private func submit(_ head: ResponseHead?, status: Int, withBody: Bool, interim: Bool = false) -> Bool {
    var storage: [UInt8] = []
    var ranges: [(name: Range<Int>, value: Range<Int>)] = []
    func add(_ name: some Sequence<UInt8>, _ value: some Sequence<UInt8>, lower: Bool) {
      let start = storage.count
      if lower {
        storage.append(contentsOf: name.lazy.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 })
      } else {
        storage.append(contentsOf: name)
      }
      let middle = storage.count
      storage.append(contentsOf: value)
      ranges.append((start..<middle, middle..<storage.count))
    }
    add(":status".utf8, String(status).utf8, lower: false)
    if var headers = head?.headers {
      headers.removeHopByHopFields()
      let upgraded = head?.status == 101
      headers.forEachField { name, value in
        // The upstream's WebSocket accept answers a key the client never sent (RFC 8441 §5).
        if upgraded, name.count == 20, name.lazy.map({ $0 | 0x20 }).elementsEqual("sec-websocket-accept".utf8) { return }
        add(name, value, lower: true)
      }
    }
    return storage.withUnsafeMutableBufferPointer { buffer in
      let base = buffer.baseAddress!
      var nva = ranges.map {
        nghttp2_nv(
          name: base + $0.name.lowerBound, value: base + $0.value.lowerBound, namelen: $0.name.count,
          valuelen: $0.value.count, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
      }
      if interim { return session.submitInterim(self, &nva) }
      return session.submitResponse(self, &nva, withBody: withBody)
    }
  }

  // MARK: Request body

  func bodyData(_ bytes: UnsafeRawBufferPointer) {
    unacknowledged += bytes.count
    if chunked {
      input.append(Array(String(bytes.count, radix: 16).utf8) + [13, 10])
      input.append(bytes)
      input.append([13, 10])
    } else {
      input.append(bytes)
    }
    queuePump()
  }

  func requestEnded() {
    guard started, !requestDone else { return }
    requestDone = true
    if chunked { input.append(Array("0\r\n\r\n".utf8)) }
    if response == .tunnel || upgradeProtocol != nil { eofPending = true }
    queuePump()
  }

  private func queuePump() {
    guard !pumpQueued, virtual?.isReading == true else { return }
    pumpQueued = true
    session.queueInputPump(self)
  }

  /// Hands the buffered request bytes to the connection (at the session's flush, on the loop).
  func pumpInput() {
    pumpQueued = false
    guard let virtual, !virtual.isClosed, virtual.isReading else { return }
    if !input.isEmpty {
      let acknowledged = unacknowledged
      unacknowledged = 0
      virtual.deliver(input.readable)
      input.removeAll()
      session.consume(id, acknowledged)
    }
    if eofPending, input.isEmpty, !virtual.isClosed {
      eofPending = false
      virtual.deliverEOF()
    }
  }

  // MARK: StreamPipe (the connection's side)

  var pipeQueued: Int { output.count }

  func pipeReadingChanged(_ stream: TCPStream) {
    if stream.isReading, !input.isEmpty || eofPending { queuePump() }
  }

  func pipeReceived(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    switch response {
    case .head:
      headBytes.append(bytes)
      parseHead()
    case .body:
      decodeBody(bytes)
    case .tunnel:
      output.append(bytes)
      wake()
    case .done:
      break
    }
  }

  private func parseHead() {
    while response == .head {
      switch parser.parse(headBytes.readable, requestMethod: method == "CONNECT" ? "GET" : method) {
      case .needMoreBytes:
        return
      case .invalid:
        return reset(NGHTTP2_INTERNAL_ERROR)
      case .complete(let head, let consumed):
        headBytes.consume(consumed)
        parser.reset()
        if head.status == 101 {
          guard upgradeProtocol != nil, submit(head, status: 200, withBody: true) else {
            return reset(NGHTTP2_INTERNAL_ERROR)
          }
          response = .tunnel
          output.append(headBytes.readable)
          headBytes.removeAll()
          return wake()
        }
        if head.status < 200 {
          _ = submit(head, status: head.status, withBody: false, interim: true)
          continue
        }
        body = BodyReader(head.framing)
        if body.isNone {
          response = .done
          responseComplete = true
          headBytes.removeAll()
          if !submit(head, status: head.status, withBody: false) { reset(NGHTTP2_INTERNAL_ERROR) }
          return
        }
        response = .body
        guard submit(head, status: head.status, withBody: true) else {
          return reset(NGHTTP2_INTERNAL_ERROR)
        }
        if !headBytes.isEmpty {
          let rest = Array(headBytes.readable)
          headBytes.removeAll()
          rest.withUnsafeBytes { decodeBody($0) }
        }
      }
    }
  }

  private func decodeBody(_ bytes: UnsafeRawBufferPointer) {
    guard !outputFinished else { return }
    do {
      let output = self.output
      let (_, finished) = try body.decode(bytes) { output.append($0) }
      if finished { outputFinished = true }
      wake()
    } catch {
      reset(NGHTTP2_INTERNAL_ERROR)
    }
  }

  /// New body bytes (or the end): nghttp2 asks for them again if it had been told to wait.
  private func wake() {
    if deferred {
      deferred = false
      session.resumeBody(self)
    }
  }

  func pipeFinished(_ stream: TCPStream) {
    endOfOutput()
  }

  func pipeReset(_ stream: TCPStream) {
    if !responseComplete { reset(NGHTTP2_INTERNAL_ERROR) }
  }

  func pipeClosed(_ stream: TCPStream) {
    endOfOutput()
  }

  /// The connection wrote its last byte. A body that ends with the connection (or a tunnel) ends here;
  /// anything else unfinished was cut short, and the client must not take it for complete.
  private func endOfOutput() {
    switch response {
    case .head:
      reset(NGHTTP2_INTERNAL_ERROR)
    case .body:
      if case .untilClose = body {
        outputFinished = true
        wake()
      } else if !outputFinished {
        reset(NGHTTP2_INTERNAL_ERROR)
      }
    case .tunnel:
      outputFinished = true
      wake()
    case .done:
      break
    }
  }

  private func reset(_ code: nghttp2_error_code) {
    guard !resetSent, !responseComplete else { return }
    resetSent = true
    responseComplete = true
    response = .done
    session.resetStream(self, code: code)
  }

  /// nghttp2's data source: up to `buffer.count` body bytes for a DATA frame.
  func readBody(into buffer: UnsafeMutableRawBufferPointer, flags: UnsafeMutablePointer<UInt32>) -> Int {
    let n = min(buffer.count, output.count)
    if n > 0 {
      buffer.baseAddress!.copyMemory(from: output.readable.baseAddress!, byteCount: n)
      output.consume(n)
      if let virtual, !drainNoted, output.count <= virtual.lowWatermark {
        drainNoted = true
        session.noteDrained(self)
      }
    }
    if output.isEmpty && outputFinished {
      flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
      response = .done
      responseComplete = true
      return n
    }
    if n == 0 {
      deferred = true
      return Int(NGHTTP2_ERR_DEFERRED.rawValue)
    }
    return n
  }

  /// The session told the connection its queue drained.
  func drainDelivered() { drainNoted = false }

  // MARK: End

  /// nghttp2 closed the stream: answered in full both ways, or reset by either side.
  func closedByProtocol(code: UInt32) {
    guard let virtual, !virtual.isClosed else { return }
    if responseComplete && code == 0 && upgradeProtocol == nil {
      // The connection is idle or closing; EOF lets an idle one close.
      virtual.deliverEOF()
    } else {
      virtual.deliverFailure(UVError(code: -104, call: "http2 stream reset"))  // ECONNRESET
    }
    if !virtual.isClosed { virtual.close() }
  }

  /// The session is ending: the connection's work stops.
  func cancel() {
    responseComplete = true
    resetSent = true
    guard let virtual, !virtual.isClosed else { return }
    virtual.deliverFailure(UVError(code: -104, call: "http2 session closed"))
    if !virtual.isClosed { virtual.close() }
  }
}

extension HTTP2Stream: @unchecked Sendable {}
