import Foundation
import Glibc

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests: a thread accepts, a thread per connection answers
/// requests (keep-alive) with whatever `handler` returns.
final class TestHTTPServer: @unchecked Sendable {
  struct Reply: Sendable {
    var status = 200
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var chunked = false
    /// Wait this long before answering (timeout tests).
    var delay: Duration? = nil

    static func text(_ text: String, status: Int = 200, headers: [(String, String)] = []) -> Reply {
      Reply(status: status, headers: headers, body: Array(text.utf8))
    }
  }

  struct Request: Sendable {
    let method: String
    let path: String
    let headers: [String: String]
    let body: [UInt8]
  }

  typealias Handler = @Sendable (Request) -> Reply

  // Invariant: `listener` is written in init only; `connections` is guarded by `lock`.
  let port: Int
  private let listener: Int32
  private let handler: Handler
  private let lock = NSLock()
  private var acceptedConnections = 0

  /// Listens on `port` (0: a free one).
  init(port: Int = 0, handler: @escaping Handler) throws {
    self.handler = handler
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = FreePort.loopback(port: port)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(descriptor, 64) == 0 else {
      close(descriptor)
      throw TestFailure("test server cannot listen on 127.0.0.1:\(port): errno \(errno)")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    listener = descriptor
    self.port = Int(UInt16(bigEndian: address.sin_port))
    let thread = Thread { [self] in acceptLoop() }
    thread.start()
  }

  /// TCP connections accepted so far (keep-alive tests).
  var connectionCount: Int { lock.withLock { acceptedConnections } }

  func stop() {
    shutdown(listener, Int32(SHUT_RDWR))  // wakes accept()
    close(listener)
  }

  private func acceptLoop() {
    while true {
      let connection = accept(listener, nil, nil)
      if connection < 0 {
        if errno == EINTR { continue }
        return
      }
      lock.withLock { acceptedConnections += 1 }
      let thread = Thread { [self] in serve(connection) }
      thread.start()
    }
  }

  private func serve(_ connection: Int32) {
    defer { close(connection) }
    var buffer: [UInt8] = []
    while true {
      guard let request = readRequest(connection, &buffer) else { return }
      let reply = handler(request)
      if let delay = reply.delay { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
      var head = "HTTP/1.1 \(reply.status) X\r\n"
      for (name, value) in reply.headers { head += "\(name): \(value)\r\n" }
      var payload: [UInt8]
      if reply.chunked {
        head += "Transfer-Encoding: chunked\r\n\r\n"
        payload = Array(head.utf8)
        var rest = reply.body[...]
        while !rest.isEmpty {  // uneven chunks, with an extension on the first
          let size = min(rest.count, 7)
          payload += Array("\(String(size, radix: 16))\(rest.count == reply.body.count ? ";x=y" : "")\r\n".utf8)
          payload += rest.prefix(size) + Array("\r\n".utf8)
          rest = rest.dropFirst(size)
        }
        payload += Array("0\r\n\r\n".utf8)
      } else {
        head += "Content-Length: \(reply.body.count)\r\n\r\n"
        payload = Array(head.utf8) + (request.method == "HEAD" ? [] : reply.body)
      }
      guard sendAll(connection, payload) else { return }
    }
  }

  private func readRequest(_ connection: Int32, _ buffer: inout [UInt8]) -> Request? {
    let terminator: [UInt8] = Array("\r\n\r\n".utf8)
    var headEnd: Int? = nil
    while true {
      if buffer.count >= 4 {
        headEnd = (0...(buffer.count - 4)).first { Array(buffer[$0..<$0 + 4]) == terminator }
      }
      if headEnd != nil { break }
      guard receive(connection, &buffer) else { return nil }
    }
    let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
    var lines = head.components(separatedBy: "\r\n")
    let requestLine = lines.removeFirst().split(separator: " ")
    guard requestLine.count >= 2 else { return nil }
    var headers: [String: String] = [:]
    for line in lines {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    let length = Int(headers["content-length"] ?? "0") ?? 0
    let bodyStart = headEnd! + 4
    while buffer.count < bodyStart + length {
      guard receive(connection, &buffer) else { return nil }
    }
    let body = Array(buffer[bodyStart..<bodyStart + length])
    buffer.removeFirst(bodyStart + length)
    return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
  }

  private func receive(_ connection: Int32, _ buffer: inout [UInt8]) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 4096)
    let count = recv(connection, &chunk, chunk.count, 0)
    guard count > 0 else { return false }
    buffer += chunk[0..<count]
    return true
  }

  private func sendAll(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
    var sent = 0
    while sent < bytes.count {
      let result = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      guard result > 0 else { return false }
      sent += result
    }
    return true
  }
}
