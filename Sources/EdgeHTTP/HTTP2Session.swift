import CNghttp2
import EdgeConfig
import EdgeCore
import EdgeLoop
import EdgeMetrics
import EdgeProxy
import Logging

/// One HTTP/2 client connection (RFC 9113), framed by nghttp2.
///
/// Each request stream becomes an `HTTP2Stream`: an HTTP/1.1 request handed to an `HTTPConnection` of
/// its own over a socketless `TCPStream`, so every handler (proxy, files, redirects, auth, encode, logs,
/// metrics) serves HTTP/2 unchanged. The connection's HTTP/1.1 answer is read back into HEADERS and
/// DATA frames. See docs/architecture.md, "HTTP/2".
///
/// Flow control is end to end: request DATA is acknowledged (WINDOW_UPDATE) only once the stream's
/// connection has taken it, which it stops doing when its upstream does not keep up; response bytes
/// count in the stream's `queuedBytes` until nghttp2 has framed them, so a client that stops granting
/// window makes the proxy stop reading the upstream, as with HTTP/1.1.
///
/// Isolated to its worker's loop like everything the worker owns; nghttp2 calls back synchronously
/// from `nghttp2_session_mem_recv`/`mem_send`, which only this class calls.
final class HTTP2Session: TCPStreamDelegate, LoopFlusher {
  /// The client connection preface (RFC 9113 §3.4).
  static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

  let worker: Worker
  let client: TCPStream
  let port: Int
  let remoteIP: String
  /// The client's and edge's addresses (from a PROXY header, or the socket's), for every stream.
  let source: ProxyEndpoint?
  let destination: ProxyEndpoint?
  let isSecure: Bool
  let settings: HTTP2Settings
  private var session: OpaquePointer?
  private(set) var streams: [Int32: HTTP2Stream] = [:]
  /// Streams with request bytes to hand to their connection at the next flush.
  private var pumpQueue: [HTTP2Stream] = []
  /// Streams whose response queue fell to the low watermark during `mem_send`.
  private var drained: [HTTP2Stream] = []
  private var flushScheduled = false
  private var closed = false
  private var draining = false
  /// Idle (no stream open) and graceful-shutdown timer.
  private let timer: DeadlineTimer
  /// Streams the client reset before their response was complete, as a token bucket: each takes a token,
  /// which come back at `resetRefillPerSecond`. Running out means rapid reset (CVE-2023-44487).
  private var resetTokens: Double
  private var resetCheckedAt: UInt64
  /// CONTINUATION frames since the last HEADERS (CVE-2024-27316 and kin).
  private var continuations = 0
  /// Why the session ended, for the log.
  private var goawayReason: String?

  static let openSessions = Families.http2Sessions.gauge()
  static let streamsTotal = Families.http2Streams.counter()
  static let refusedTotal = Families.http2Abuse.counter()

  init(
    worker: Worker, client: TCPStream, port: Int, remoteIP: String, source: ProxyEndpoint?,
    destination: ProxyEndpoint?, isSecure: Bool, settings: HTTP2Settings
  ) {
    self.worker = worker
    self.client = client
    self.port = port
    self.remoteIP = remoteIP
    self.source = source
    self.destination = destination
    self.isSecure = isSecure
    self.settings = settings
    self.timer = DeadlineTimer(loop: worker.loop)
    resetTokens = Double(settings.resetBurst)
    resetCheckedAt = worker.loop.now
  }

  /// Starts the session with the bytes read so far (the preface at least). False when nghttp2 could not
  /// be set up (out of memory): the caller closes the connection.
  func start(_ initial: UnsafeRawBufferPointer) -> Bool {
    guard let session = Self.makeSession(self) else { return false }
    self.session = session
    var entries = [
      nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: UInt32(settings.maxConcurrentStreams)),
      nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(settings.streamWindow)),
      nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: UInt32(settings.maxHeaderListSize)),
      nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL.rawValue), value: 1),
    ]
    guard nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count) == 0,
      nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(settings.connectionWindow)) == 0
    else { return false }
    client.delegate = self
    timer.setHandler { [unowned self] in self.timedOut() }
    timer.start(after: settings.idleMilliseconds)
    Self.openSessions.increment()
    received(initial)
    if !closed { client.startReading() }
    return true
  }

  private static func makeSession(_ owner: HTTP2Session) -> OpaquePointer? {
    var callbacks: OpaquePointer?
    guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
    defer { nghttp2_session_callbacks_del(callbacks) }
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
    nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameReceived)
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunk)
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
    nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, onBeginFrame)
    var option: OpaquePointer?
    guard nghttp2_option_new(&option) == 0, let option else { return nil }
    defer { nghttp2_option_del(option) }
    // Window updates follow what the streams' connections take, not what arrives.
    nghttp2_option_set_no_auto_window_update(option, 1)
    nghttp2_option_set_max_continuations(option, Int(owner.settings.maxContinuations))
    // nghttp2's own rapid-reset limit stays as a backstop behind edge's (which also counts streams
    // cancelled before their answer, and says so in the log and /metrics).
    nghttp2_option_set_stream_reset_rate_limit(option, UInt64(owner.settings.resetBurst * 2), UInt64(owner.settings.resetRefillPerSecond * 2))
    var session: OpaquePointer?
    let userData = Unmanaged.passUnretained(owner).toOpaque()
    guard nghttp2_session_server_new2(&session, callbacks, userData, option) == 0 else { return nil }
    return session
  }

  static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session {
    Unmanaged<HTTP2Session>.fromOpaque(userData!).takeUnretainedValue()
  }

  // MARK: Client socket

  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) { received(bytes) }
  func streamDidReachEOF(_ stream: TCPStream) { close() }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) { close() }
  func streamDidDrain(_ stream: TCPStream) { scheduleFlush() }

  private func received(_ bytes: UnsafeRawBufferPointer) {
    guard let session, !closed, bytes.count > 0 else { return }
    let n = nghttp2_session_mem_recv(session, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count)
    if n < 0 {
      worker.logger.debug(
        "HTTP/2 session error", metadata: ["remote": "\(remoteIP)", "error": "\(String(cString: nghttp2_strerror(Int32(n))))"])
      if n == Int(NGHTTP2_ERR_FLOODED.rawValue) || n == Int(NGHTTP2_ERR_BAD_CLIENT_MAGIC.rawValue) {
        if n == Int(NGHTTP2_ERR_FLOODED.rawValue) { Self.refusedTotal.increment() }
        return close()
      }
      // nghttp2 has queued a GOAWAY for a protocol error: send it, then close.
      nghttp2_session_terminate_session(session, UInt32(NGHTTP2_PROTOCOL_ERROR.rawValue))
    }
    scheduleFlush()
  }

  func scheduleFlush() {
    guard !flushScheduled, !closed else { return }
    flushScheduled = true
    worker.loop.flushSoon(self)
  }

  /// Once per round of the loop: request bytes to the streams' connections, then every frame nghttp2 has
  /// ready to the client while it takes them.
  func loopWillFlush() {
    flushScheduled = false
    guard let session, !closed else { return }
    if !pumpQueue.isEmpty {
      let queue = pumpQueue
      pumpQueue.removeAll(keepingCapacity: true)
      for stream in queue { stream.pumpInput() }
    }
    while client.isWritable {
      var data: UnsafePointer<UInt8>?
      let n = nghttp2_session_mem_send(session, &data)
      if n < 0 {
        worker.logger.debug("HTTP/2 send failed", metadata: ["error": "\(String(cString: nghttp2_strerror(Int32(n))))"])
        return close()
      }
      if n == 0 { break }
      client.write(UnsafeRawBufferPointer(start: data, count: n))
    }
    if !drained.isEmpty {
      let list = drained
      drained.removeAll(keepingCapacity: true)
      for stream in list {
        stream.drainDelivered()
        stream.virtual?.pipeDrained()
      }
    }
    if nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0 {
      return closeAfterFlush()
    }
  }

  func queueInputPump(_ stream: HTTP2Stream) {
    pumpQueue.append(stream)
    scheduleFlush()
  }

  func noteDrained(_ stream: HTTP2Stream) { drained.append(stream) }

  // MARK: nghttp2 calls from streams

  func submitResponse(_ stream: HTTP2Stream, _ fields: inout [nghttp2_nv], withBody: Bool) -> Bool {
    guard let session else { return false }
    scheduleFlush()
    if withBody {
      var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: readResponseBody)
      return nghttp2_submit_response(session, stream.id, &fields, fields.count, &provider) == 0
    }
    return nghttp2_submit_response(session, stream.id, &fields, fields.count, nil) == 0
  }

  func submitInterim(_ stream: HTTP2Stream, _ fields: inout [nghttp2_nv]) -> Bool {
    guard let session else { return false }
    scheduleFlush()
    return nghttp2_submit_headers(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, nil, &fields, fields.count, nil) >= 0
  }

  func resumeBody(_ stream: HTTP2Stream) {
    guard let session else { return }
    _ = nghttp2_session_resume_data(session, stream.id)
    scheduleFlush()
  }

  func resetStream(_ stream: HTTP2Stream, code: nghttp2_error_code) {
    guard let session else { return }
    _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, code.rawValue)
    scheduleFlush()
  }

  func consume(_ streamID: Int32, _ count: Int) {
    guard let session, count > 0 else { return }
    _ = nghttp2_session_consume(session, streamID, count)
    scheduleFlush()
  }

  // MARK: Callback bodies

  fileprivate func beginHeaders(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
    guard frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
      frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
    else { return 0 }
    let id = frame.pointee.hd.stream_id
    if draining {
      // Past the GOAWAY: nghttp2 refuses streams above its last id itself; this one is below it.
      resetStream(id, NGHTTP2_REFUSED_STREAM)
      return 0
    }
    streams[id] = HTTP2Stream(session: self, id: id)
    Self.streamsTotal.increment()
    timer.stop()
    return 0
  }

  fileprivate func header(_ frame: UnsafePointer<nghttp2_frame>, _ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Int32 {
    guard let stream = streams[frame.pointee.hd.stream_id] else { return 0 }
    stream.header(name, value)
    return 0
  }

  fileprivate func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) -> Int32 {
    let hd = frame.pointee.hd
    let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
    switch UInt32(hd.type) {
    case NGHTTP2_HEADERS.rawValue:
      continuations = 0
      guard let stream = streams[hd.stream_id] else { return 0 }
      if frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
        stream.headersComplete(endStream: endStream)
      } else if endStream {
        stream.requestEnded()  // trailers: dropped, the body ends
      }
    case NGHTTP2_DATA.rawValue:
      if endStream, let stream = streams[hd.stream_id] { stream.requestEnded() }
    case NGHTTP2_RST_STREAM.rawValue:
      if let stream = streams[hd.stream_id], !stream.responseComplete { return spendResetToken() }
    default:
      break
    }
    return 0
  }

  fileprivate func dataChunk(_ streamID: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    guard let stream = streams[streamID], stream.acceptsBody else {
      // Nobody will read it: give the window back at once.
      if let session { _ = nghttp2_session_consume_connection(session, bytes.count) }
      return 0
    }
    stream.bodyData(bytes)
    return 0
  }

  fileprivate func streamClosed(_ streamID: Int32, _ code: UInt32) -> Int32 {
    guard let stream = streams.removeValue(forKey: streamID) else { return 0 }
    stream.closedByProtocol(code: code)
    if streams.isEmpty, !closed {
      timer.start(after: draining ? 0 : settings.idleMilliseconds)
    }
    return 0
  }

  fileprivate func beginFrame(_ hd: nghttp2_frame_hd) -> Int32 {
    if UInt32(hd.type) == NGHTTP2_CONTINUATION.rawValue {
      continuations += 1
      if continuations > settings.maxContinuations {
        return abuse("CONTINUATION flood")
      }
    }
    return 0
  }

  /// A stream reset by the client before its answer was complete costs a token.
  private func spendResetToken() -> Int32 {
    let now = worker.loop.now
    resetTokens = min(
      Double(settings.resetBurst), resetTokens + Double(now - resetCheckedAt) * Double(settings.resetRefillPerSecond) / 1000)
    resetCheckedAt = now
    resetTokens -= 1
    if resetTokens < 0 { return abuse("rapid reset") }
    return 0
  }

  /// Ends the session with GOAWAY(ENHANCE_YOUR_CALM) for a client abusing the protocol.
  private func abuse(_ what: String) -> Int32 {
    Self.refusedTotal.increment()
    worker.logger.warning("HTTP/2 client refused", metadata: ["remote": "\(remoteIP)", "reason": "\(what)"])
    goawayReason = what
    if let session {
      nghttp2_session_terminate_session(session, UInt32(NGHTTP2_ENHANCE_YOUR_CALM.rawValue))
    }
    // Every stream's work stops now; the GOAWAY goes out at the next flush, then the connection closes.
    for stream in Array(streams.values) { stream.cancel() }
    scheduleFlush()
    return 0
  }

  private func resetStream(_ id: Int32, _ code: nghttp2_error_code) {
    guard let session else { return }
    _ = nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, code.rawValue)
  }

  fileprivate func readBody(
    _ streamID: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ length: Int, _ flags: UnsafeMutablePointer<UInt32>
  ) -> Int {
    guard let stream = streams[streamID] else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
    return stream.readBody(into: UnsafeMutableRawBufferPointer(start: buffer, count: length), flags: flags)
  }

  // MARK: Timeouts, drain and close

  private func timedOut() {
    guard let session, !closed else { return }
    if streams.isEmpty {
      // Idle too long, or draining with nothing left: GOAWAY with the last stream handled, then close.
      _ = nghttp2_submit_goaway(
        session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
        UInt32(NGHTTP2_NO_ERROR.rawValue), nil, 0)
      nghttp2_session_terminate_session(session, UInt32(NGHTTP2_NO_ERROR.rawValue))
      scheduleFlush()
    } else if draining {
      // The grace after the shutdown notice is over: the final GOAWAY names the last stream edge will
      // answer; those in progress finish.
      _ = nghttp2_submit_goaway(
        session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
        UInt32(NGHTTP2_NO_ERROR.rawValue), nil, 0)
      scheduleFlush()
    }
  }

  /// Shutdown or reload: a GOAWAY shutdown notice now (the client opens no new streams and finds another
  /// connection), the final GOAWAY a second later, streams under way finish.
  func drain() {
    guard let session, !closed, !draining else { return }
    draining = true
    _ = nghttp2_submit_shutdown_notice(session)
    timer.start(after: streams.isEmpty ? 0 : 1000)
    scheduleFlush()
  }

  private func closeAfterFlush() {
    guard !closed else { return }
    closed = true
    finish()
    client.closeAfterFlush { [worker] in worker.sessionDidClose(self) }
  }

  func close() {
    guard !closed else { return }
    closed = true
    finish()
    client.close { [worker] in worker.sessionDidClose(self) }
  }

  private func finish() {
    timer.close()
    for stream in Array(streams.values) { stream.cancel() }
    streams.removeAll()
    pumpQueue.removeAll()
    drained.removeAll()
    if let session {
      nghttp2_session_del(session)
      self.session = nil
      Self.openSessions.decrement()
    }
  }
}

// Invariant: used only on its worker's loop, like the connections it creates.
extension HTTP2Session: @unchecked Sendable {}

// MARK: nghttp2 callbacks (C function pointers; `user_data` is the session)

private let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, userData in
  HTTP2Session.from(userData).beginHeaders(frame!)
}

private let onHeader: nghttp2_on_header_callback = { _, frame, name, nameLength, value, valueLength, _, userData in
  HTTP2Session.from(userData).header(
    frame!, UnsafeRawBufferPointer(start: name, count: nameLength), UnsafeRawBufferPointer(start: value, count: valueLength))
}

private let onFrameReceived: nghttp2_on_frame_recv_callback = { _, frame, userData in
  HTTP2Session.from(userData).frameReceived(frame!)
}

private let onDataChunk: nghttp2_on_data_chunk_recv_callback = { _, _, streamID, data, length, userData in
  HTTP2Session.from(userData).dataChunk(streamID, UnsafeRawBufferPointer(start: data, count: length))
}

private let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, code, userData in
  HTTP2Session.from(userData).streamClosed(streamID, code)
}

private let onBeginFrame: nghttp2_on_begin_frame_callback = { _, hd, userData in
  HTTP2Session.from(userData).beginFrame(hd!.pointee)
}

private let readResponseBody: nghttp2_data_source_read_callback = { _, streamID, buffer, length, flags, _, userData in
  HTTP2Session.from(userData).readBody(streamID, buffer!, length, flags!)
}

/// The HTTP/2 settings of a listener, from `servers { … }`.
struct HTTP2Settings {
  var maxConcurrentStreams = 250
  /// Per-stream receive window: what a client may send ahead of edge's connection taking it.
  var streamWindow = 256 * 1024
  /// Connection receive window: all streams' unread request bodies together.
  var connectionWindow = 1024 * 1024
  var maxHeaderListSize = 16 * 1024
  var maxHeaderCount = 100
  var maxContinuations = 16
  /// Streams a client may cancel before their answer in a burst, and how fast that allowance returns.
  var resetBurst = 1000
  var resetRefillPerSecond = 100
  var idleMilliseconds: UInt64 = 300_000

  init(_ options: ServerOptions) {
    maxHeaderListSize = options.maxHeaderBytes
    maxHeaderCount = options.maxHeaderCount
    idleMilliseconds = options.idleTimeout.milliseconds
  }
}
