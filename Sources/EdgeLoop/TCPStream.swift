import EdgeCore
internal import CLibUV
import Glibc

/// What a stream tells its owner. Called on the stream's loop.
public protocol TCPStreamDelegate: AnyObject {
  /// Bytes arrived. They are valid only during the call: consume or copy them.
  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer)
  /// The peer finished sending (FIN). Writing may go on.
  func streamDidReachEOF(_ stream: TCPStream)
  /// Reading or writing failed; the owner should close the stream.
  func streamDidFail(_ stream: TCPStream, _ error: UVError)
  /// Queued writes fell to the low watermark (only after `isWritable` was false).
  func streamDidDrain(_ stream: TCPStream)
}

/// A TCP connection on one loop, with a bounded view of its write queue for back-pressure.
/// Not thread-safe: every call happens on `loop`.
public final class TCPStream {
  public let loop: EventLoop
  let handle: UnsafeMutablePointer<uv_tcp_t>
  /// Strong until the stream is closed, so an owner lives as long as its socket.
  public var delegate: (any TCPStreamDelegate)?
  /// TLS (or another layer) between the socket and the owner; set before reading starts. See `StreamSecurity`.
  public var security: (any StreamSecurity)?
  /// Set on a stream with no socket: one HTTP/2 stream seen by an HTTP/1.1 connection. What the owner
  /// writes goes to the pipe; what it reads is handed in with `deliver`. See `StreamPipe`.
  public private(set) var pipe: (any StreamPipe)?
  /// Bytes handed to libuv that the kernel has not taken yet.
  private var libuvQueued = 0
  /// Small writes of this loop iteration, sent together by `flush()` (see `EventLoop.dirtyStreams`).
  private let outgoing = ByteBuffer(capacity: 1024)
  private var flushScheduled = false
  /// Bytes handed to `write` that the kernel has not taken yet.
  public var queuedBytes: Int { libuvQueued + outgoing.count + (pipe?.pipeQueued ?? 0) }
  public private(set) var isReading = false
  public private(set) var isClosed = false
  private var drainPending = false
  private var onClose: (() -> Void)?
  private var connectCompletion: ((Result<TCPStream, UVError>) -> Void)?
  private var connectTimer: LoopTimer?

  /// Above this many queued bytes the stream reports not writable; producers stop reading their source.
  public var highWatermark = 256 * 1024
  /// At or below this many queued bytes after being above `highWatermark`, `streamDidDrain` is called.
  public var lowWatermark = 64 * 1024
  public var isWritable: Bool { queuedBytes <= highWatermark }

  init(loop: EventLoop) {
    self.loop = loop
    handle = .allocate(capacity: 1)
    uv_tcp_init(loop.raw, handle)
    handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
  }

  /// A stream without a socket whose bytes go through `pipe` (its handle is never opened, only closed,
  /// so closing works the same way for both kinds).
  public convenience init(loop: EventLoop, pipe: any StreamPipe) {
    self.init(loop: loop)
    self.pipe = pipe
  }

  var stream: UnsafeMutablePointer<uv_stream_t> {
    UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
  }

  static func from(_ raw: UnsafeMutableRawPointer?) -> TCPStream {
    Unmanaged<TCPStream>.fromOpaque(raw!).takeUnretainedValue()
  }

  // MARK: Reading

  public func startReading() {
    assert(loop.inLoop, "TCPStream used off its loop")
    guard !isReading, !isClosed else { return }
    isReading = true
    if let pipe { return pipe.pipeReadingChanged(self) }
    uv_read_start(
      stream,
      { handle, _, buf in
        let pool = TCPStream.from(handle!.pointee.data).loop.pool
        buf!.pointee = uv_buf_init(pool.readBuffer.assumingMemoryBound(to: CChar.self), UInt32(BufferPool.readSize))
      },
      { handle, nread, buf in
        let me = TCPStream.from(handle!.pointee.data)
        if nread > 0 {
          let bytes = UnsafeRawBufferPointer(start: buf!.pointee.base, count: nread)
          if let security = me.security {
            security.streamReceived(me, bytes)
          } else {
            me.delegate?.streamDidRead(me, bytes)
          }
        } else if nread == Int(UV_EOF.rawValue) {
          me.stopReading()
          me.delegate?.streamDidReachEOF(me)
        } else if nread < 0 {
          me.stopReading()
          me.delegate?.streamDidFail(me, UVError(code: Int32(nread), call: "read"))
        }
      })
  }

  public func stopReading() {
    guard isReading, !isClosed else { return }
    isReading = false
    if let pipe { return pipe.pipeReadingChanged(self) }
    uv_read_stop(stream)
  }

  // MARK: Writing

  /// Writes bytes in order. Small writes are batched until the loop is about to wait (one syscall for a
  /// response written in pieces); large ones go straight to the kernel. What the kernel does not take at
  /// once is copied and queued.
  public func write(_ bytes: UnsafeRawBufferPointer) {
    assert(loop.inLoop, "TCPStream used off its loop")
    guard !isClosed, bytes.count > 0 else { return }
    if outgoing.isEmpty && bytes.count >= Self.directWriteSize && (security?.isEstablished ?? true) {
      return send(bytes)
    }
    outgoing.append(bytes)
    // Not writable means libuv holds a queue, whose completions will report the drain.
    if queuedBytes > highWatermark { drainPending = true }
    if outgoing.count >= Self.batchLimit {
      flush()
    } else if !flushScheduled {
      flushScheduled = true
      loop.dirtyStreams.append(self)
    }
  }

  /// Writes bytes now when nothing waits before them, else like `write`. For a relay: each chunk read is
  /// written whole once, so batching it would only hold it until the end of the loop's round of I/O
  /// (after up to a thousand other reads, in a broadcast to many tunnels).
  public func writeNow(_ bytes: UnsafeRawBufferPointer) {
    assert(loop.inLoop, "TCPStream used off its loop")
    guard !isClosed, bytes.count > 0 else { return }
    if outgoing.isEmpty && (security?.isEstablished ?? true) { return send(bytes) }
    write(bytes)
  }

  static let directWriteSize = 16 * 1024
  static let batchLimit = 64 * 1024

  /// Sends the batched writes now.
  public func flush() {
    flushScheduled = false
    guard !isClosed, !outgoing.isEmpty else { return }
    // During a handshake the batch waits; the layer flushes once it is established.
    if let security, !security.isEstablished { return }
    send(outgoing.readable)
    outgoing.removeAll()
  }

  /// Sends application bytes: sealed first when a security layer is set.
  private func send(_ bytes: UnsafeRawBufferPointer) {
    guard let security else { return sendRaw(bytes) }
    _ = security.seal(bytes) { sendRaw($0) }
  }

  /// Sends bytes as they are, bypassing the batch and the security layer (the layer's own records).
  /// Ciphertext must leave in the order it was sealed; everything sealed is sent at once, so it does.
  public func writeRaw(_ bytes: UnsafeRawBufferPointer) {
    assert(loop.inLoop, "TCPStream used off its loop")
    guard !isClosed, bytes.count > 0 else { return }
    sendRaw(bytes)
  }

  private func sendRaw(_ bytes: UnsafeRawBufferPointer) {
    if let pipe {
      pipe.pipeReceived(self, bytes)
      if queuedBytes > highWatermark { drainPending = true }
      return
    }
    var offset = 0
    if libuvQueued == 0 {
      var buf = uv_buf_init(
        UnsafeMutableRawPointer(mutating: bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
        UInt32(bytes.count))
      let n = uv_try_write(stream, &buf, 1)
      if n >= 0 {
        offset = Int(n)
      } else if n != UV_EAGAIN.rawValue {
        // The failure surfaces through the next read or the queued write; keep the bytes queued.
        offset = 0
      }
    }
    if offset < bytes.count { enqueue(UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
  }

  public func write(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { write($0) }
  }

  /// A queued write: `uv_write_t`, the payload size and the payload in one pooled block.
  private static let header = (MemoryLayout<uv_write_t>.stride + 15) & ~15

  private func enqueue(_ bytes: UnsafeRawBufferPointer) {
    let total = Self.header + bytes.count
    let block = loop.pool.take(total)
    (block + Self.header).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    let req = block.assumingMemoryBound(to: uv_write_t.self)
    req.pointee.data = UnsafeMutableRawPointer(bitPattern: bytes.count)
    var buf = uv_buf_init((block + Self.header).assumingMemoryBound(to: CChar.self), UInt32(bytes.count))
    libuvQueued += bytes.count
    if queuedBytes > highWatermark { drainPending = true }
    let status = uv_write(req, stream, &buf, 1) { req, status in
      let block = UnsafeMutableRawPointer(req!)
      let size = Int(bitPattern: req!.pointee.data)
      let me = TCPStream.from(req!.pointee.handle.pointee.data)
      me.loop.pool.give(block, size: TCPStream.header + size)
      me.libuvQueued -= size
      if status < 0 {
        if !me.isClosed && status != UV_ECANCELED.rawValue {
          me.delegate?.streamDidFail(me, UVError(code: status, call: "write"))
        }
        return
      }
      if me.drainPending && me.queuedBytes <= me.lowWatermark {
        me.drainPending = false
        me.delegate?.streamDidDrain(me)
      }
    }
    if status < 0 {
      libuvQueued -= bytes.count
      loop.pool.give(block, size: total)
    }
  }

  /// Sends `count` bytes of the file `descriptor` from `offset` with `sendfile(2)`: the kernel takes them
  /// from the page cache, with no copy through user space. Only on a plain stream with nothing queued in
  /// libuv; the batched writes (a response head) go first, with MSG_MORE so they share a packet with the
  /// file. Returns how many bytes the kernel took, 0 when the socket is full; nil when this stream cannot
  /// (a security layer, queued writes) or the call failed. What is not sent is the caller's to `write`,
  /// which queues it and reports any error as usual: sendfile never waits, nor holds back-pressure.
  public func sendFile(_ descriptor: Int32, offset: Int, count: Int) -> Int? {
    assert(loop.inLoop, "TCPStream used off its loop")
    guard !isClosed, security == nil, pipe == nil, libuvQueued == 0, count > 0 else { return nil }
    var fd: uv_os_fd_t = -1
    guard uv_fileno(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self), &fd) == 0 else { return nil }
    if !outgoing.isEmpty {
      let head = outgoing.readable
      let n = Glibc.send(fd, head.baseAddress, head.count, Int32(MSG_MORE | MSG_NOSIGNAL))
      if n < head.count {
        // The rest (all of it on an error, which the queued write then reports) goes the usual way.
        sendRaw(UnsafeRawBufferPointer(rebasing: head[max(n, 0)...]))
        outgoing.removeAll()
        return nil
      }
      outgoing.removeAll()
    }
    var position = off_t(offset)
    let n = Glibc.sendfile(fd, descriptor, &position, count)
    if n >= 0 { return n }
    return errno == EAGAIN ? 0 : nil
  }

  /// Sends FIN after the queued writes. Reading may go on.
  public func shutdownWrite() {
    guard !isClosed else { return }
    flush()
    if let pipe { return pipe.pipeFinished(self) }
    sealClose()
    let req = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
    if uv_shutdown(req, stream, { req, _ in req!.deallocate() }) < 0 { req.deallocate() }
  }

  /// Sends FIN once the queued writes are out, then closes. For responses that end the connection.
  public func closeAfterFlush(then onClose: (() -> Void)? = nil) {
    guard !isClosed else { return }
    stopReading()
    if let onClose { self.onClose = onClose }
    flush()
    if let pipe {
      pipe.pipeFinished(self)
      return close()
    }
    sealClose()
    if libuvQueued == 0 { return close() }
    let req = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
    let status = uv_shutdown(req, stream) { req, _ in
      let me = TCPStream.from(req!.pointee.handle.pointee.data)
      req!.deallocate()
      me.close()
    }
    if status < 0 {
      req.deallocate()
      close()
    }
  }

  /// Sends the security layer's closing records (close_notify), if it has any.
  private func sealClose() {
    guard let security, security.isEstablished else { return }
    security.sealClose { sendRaw($0) }
  }

  // MARK: Closing

  /// Closes the socket. Queued writes are dropped. `onClose` runs once the handle is released (and
  /// replaces one given to an earlier `closeAfterFlush`).
  public func close(then onClose: (() -> Void)? = nil) {
    guard !isClosed else { return }
    isClosed = true
    isReading = false
    if let onClose { self.onClose = onClose }
    connectTimer?.close()
    connectTimer = nil
    security?.streamClosed(self)
    pipe?.pipeClosed(self)
    uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { raw in
      let me = Unmanaged<TCPStream>.fromOpaque(raw!.pointee.data).takeRetainedValue()
      me.delegate = nil
      me.security = nil
      me.pipe = nil
      let done = me.onClose
      me.onClose = nil
      me.handle.deallocate()
      done?()
    }
  }

  /// Closes with RST instead of FIN (SO_LINGER 0): for connections abandoned mid-response.
  public func reset() {
    guard !isClosed else { return }
    if let pipe { pipe.pipeReset(self) }
    var fd: uv_os_fd_t = -1
    if uv_fileno(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self), &fd) == 0 {
      var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }
    close()
  }

  /// The pipe took queued bytes: tells the owner when the queue fell to the low watermark.
  public func pipeDrained() {
    guard !isClosed, drainPending, queuedBytes <= lowWatermark else { return }
    drainPending = false
    delegate?.streamDidDrain(self)
  }

  // MARK: Addresses and options

  public func setNoDelay(_ on: Bool) { uv_tcp_nodelay(handle, on ? 1 : 0) }

  /// Makes a peer that vanished without a FIN or RST (a network partition, a host powered off) an error
  /// within about `deadAfter`: keepalive probes start after `idle` of silence, and data (probes included)
  /// unacknowledged for `deadAfter` ends the connection. For long-lived connections that may sit idle
  /// (Redis, pub/sub), which otherwise would look alive for the kernel's default two hours and more.
  public func detectDeadPeer(idle: Duration, deadAfter: Duration) {
    var fd: uv_os_fd_t = -1
    guard !isClosed, uv_fileno(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self), &fd) == 0 else { return }
    func set(_ level: Int32, _ option: Int32, _ value: Int32) {
      var value = value
      setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
    }
    let tcp = Int32(IPPROTO_TCP)
    set(SOL_SOCKET, SO_KEEPALIVE, 1)
    set(tcp, TCP_KEEPIDLE, Int32(max(1, idle.components.seconds)))
    set(tcp, TCP_KEEPINTVL, Int32(max(1, deadAfter.components.seconds / 4)))
    set(tcp, TCP_KEEPCNT, 4)
    set(tcp, TCP_USER_TIMEOUT, Int32(clamping: deadAfter.milliseconds))
  }

  /// The peer's IP address as text (no port), or nil if the socket has none.
  public func peerIP() -> String? { endpoint(peer: true)?.ip }

  /// This side's IP address as text (the address the peer connected to).
  public func localIP() -> String? { endpoint(peer: false)?.ip }

  /// The peer's address and port (IPv4-mapped addresses as IPv4), or nil if the socket has none.
  public func peerEndpoint() -> (ip: String, port: Int)? { endpoint(peer: true) }

  /// This side's address and port: where the peer connected to.
  public func localEndpoint() -> (ip: String, port: Int)? { endpoint(peer: false) }

  private func endpoint(peer: Bool) -> (ip: String, port: Int)? {
    var storage = sockaddr_storage()
    var len = Int32(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        peer ? uv_tcp_getpeername(handle, $0, &len) : uv_tcp_getsockname(handle, $0, &len)
      }
    }
    guard status == 0 else { return nil }
    let address = SocketAddress(storage: storage)
    let ip = address.ip
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; show them as the IPv4 they are.
    if ip.hasPrefix("::ffff:") && ip.contains(".") { return (String(ip.dropFirst(7)), address.port) }
    return (ip, address.port)
  }

  // MARK: Connecting

  /// Connects to `address`; `completion` runs once on the loop with the stream or the error.
  public static func connect(
    on loop: EventLoop, to address: SocketAddress, timeoutMilliseconds: UInt64,
    completion: @escaping (Result<TCPStream, UVError>) -> Void
  ) {
    let me = TCPStream(loop: loop)
    me.connectCompletion = completion
    let req = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
    var storage = address.storage
    let status = withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { addr in
        uv_tcp_connect(req, me.handle, addr) { req, status in
          let me = TCPStream.from(req!.pointee.handle.pointee.data)
          req!.deallocate()
          me.finishConnect(status)
        }
      }
    }
    if status < 0 {
      req.deallocate()
      me.connectCompletion = nil
      me.close()
      completion(.failure(UVError(code: status, call: "connect")))
      return
    }
    let timer = LoopTimer(loop: loop)
    me.connectTimer = timer
    timer.start(after: timeoutMilliseconds) { [unowned me] in me.finishConnect(UVError.timedOut.code) }
  }

  private func finishConnect(_ status: Int32) {
    guard let completion = connectCompletion else { return }
    connectCompletion = nil
    connectTimer?.close()
    connectTimer = nil
    if status < 0 {
      close()
      completion(.failure(UVError(code: status, call: "connect")))
    } else {
      setNoDelay(true)
      completion(.success(self))
    }
  }
}

// Invariant: a stream is used only on its loop's thread; it is handed between actors bound to that same
// loop (connection → tunnel), never to another thread. Debug builds assert it at every I/O entry point.
extension TCPStream: @unchecked Sendable {}
