import Glibc

/// A connected, non-blocking TCP socket whose every wait is a `poll` bounded by a deadline. Used by one
/// thread at a time (the transport's queue), never by an event loop.
final class TCPSocket {
  private let descriptor: Int32
  private var isClosed = false

  private init(descriptor: Int32) { self.descriptor = descriptor }

  deinit { close() }

  func close() {
    if isClosed { return }
    isClosed = true
    _ = Glibc.close(descriptor)
  }

  /// Resolves `host` (blocking getaddrinfo: this runs on the transport's own thread) and connects to the
  /// first address that answers before `deadline`.
  static func connect(host: String, port: Int, deadline: ContinuousClock.Instant) throws -> TCPSocket {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICSERV
    var list: UnsafeMutablePointer<addrinfo>? = nil
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let list else {
      throw ACMEError(.transport, "resolving \(host): \(String(cString: gai_strerror(status)))")
    }
    defer { freeaddrinfo(list) }
    var failures: [String] = []
    var cursor: UnsafeMutablePointer<addrinfo>? = list
    while let info = cursor {
      cursor = info.pointee.ai_next
      let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
      let descriptor = socket(info.pointee.ai_family, flags, 0)
      guard descriptor >= 0 else {
        failures.append("socket: \(errorText(errno))")
        continue
      }
      let socket = TCPSocket(descriptor: descriptor)
      do {
        try socket.finishConnect(info.pointee.ai_addr, info.pointee.ai_addrlen, deadline: deadline)
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return socket
      } catch {
        failures.append((error as? ACMEError)?.message ?? "\(error)")
        if ContinuousClock.now >= deadline { break }
      }
    }
    throw ACMEError(.transport, "connecting to \(host):\(port): \(failures.joined(separator: "; "))")
  }

  private func finishConnect(
    _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t, deadline: ContinuousClock.Instant
  ) throws
  {
    if Glibc.connect(descriptor, address, length) == 0 { return }
    guard errno == EINPROGRESS else { throw ACMEError(.transport, errorText(errno)) }
    try wait(for: Int16(POLLOUT), until: deadline, doing: "connect")
    var failure: Int32 = 0
    var size = socklen_t(MemoryLayout<Int32>.size)
    _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &size)
    if failure != 0 { throw ACMEError(.transport, errorText(failure)) }
  }

  /// Sends every byte (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
  func send(_ bytes: UnsafeRawBufferPointer, deadline: ContinuousClock.Instant) throws {
    var sent = 0
    while sent < bytes.count {
      let result = Glibc.send(descriptor, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
      if result > 0 {
        sent += result
      } else if result < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        try wait(for: Int16(POLLOUT), until: deadline, doing: "write")
      } else {
        throw ACMEError(.transport, "write: \(errorText(errno))")
      }
    }
  }

  /// Receives at least one byte into `buffer`; 0 means the peer closed.
  func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: ContinuousClock.Instant) throws -> Int {
    while true {
      let result = recv(descriptor, buffer.baseAddress, buffer.count, 0)
      if result >= 0 { return result }
      guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
        throw ACMEError(.transport, "read: \(errorText(errno))")
      }
      try wait(for: Int16(POLLIN), until: deadline, doing: "read")
    }
  }

  /// Whether bytes (or end of stream) are waiting right now.
  var isReadable: Bool {
    var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, 0) > 0
  }

  private func wait(for events: Int16, until deadline: ContinuousClock.Instant, doing what: String) throws {
    while true {
      let remaining = ContinuousClock.now.duration(to: deadline)
      guard remaining > .zero else { throw ACMEError(.transport, "\(what) timed out") }
      let milliseconds = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
      var entry = pollfd(fd: descriptor, events: events, revents: 0)
      let ready = poll(&entry, 1, Int32(clamping: max(1, milliseconds)))
      if ready > 0 { return }
      if ready < 0 && errno != EINTR { throw ACMEError(.transport, "\(what): poll: \(errorText(errno))") }
    }
  }
}

func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// A byte stream over a socket, plain or TLS.
protocol ByteStream: AnyObject {
  func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws
  /// Appends at least one byte to `buffer`, or returns false at end of stream.
  func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws -> Bool
  /// Whether an idle connection went bad (peer closed, or sent something unasked): not reusable.
  var isStale: Bool { get }
  func close()
}

extension TCPSocket: ByteStream {
  func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws {
    try bytes.withUnsafeBytes { (raw) throws in try send(raw, deadline: deadline) }
  }

  func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws -> Bool {
    var chunk = [UInt8](repeating: 0, count: 16_384)
    let count = try chunk.withUnsafeMutableBytes { (raw) throws in try receive(into: raw, deadline: deadline) }
    buffer.append(contentsOf: chunk[0..<count])
    return count > 0
  }

  var isStale: Bool { isReadable }
}
