import Foundation

/// A real OCSP responder on 127.0.0.1: `openssl ocsp` in file mode (`-reqin`/`-respout`, one process
/// per request, reading `index.txt` afresh each time) behind a minimal HTTP/1.1 server, one connection
/// at a time. (The CLI's own `-port` takes only a number and listens on every interface.)
final class OCSPResponder: @unchecked Sendable {
  // Invariant: every stored property is set in init and never changed; the serving thread only reads
  // them, and `stop` waits for that thread to finish before closing the socket.
  let port: Int
  private let listener: Int32
  private let pki: OCSPTestPKI
  private let arguments: [String]
  private let finished = DispatchSemaphore(value: 0)
  private let requests = Counter()

  var url: String { "http://127.0.0.1:\(port)" }

  /// Answers for certificates the intermediate issued, signed with `signer`'s certificate and key
  /// (a name in the PKI), with `extra` CLI options (`-nmin 10` for a nextUpdate, `-badsig`, …).
  init(pki: OCSPTestPKI, signer: String = "intermediate", extra: [String] = ["-nmin", "10"]) throws {
    self.pki = pki
    arguments = [
      "ocsp", "-index", pki.path("index.txt"), "-CA", pki.path("intermediate.crt"),
      "-rsigner", pki.path("\(signer).crt"), "-rkey", pki.path("\(signer).key"),
    ] + extra
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard listener >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(listener, pointer, length) == 0 && getsockname(listener, pointer, &length) == 0
      }
    }
    guard bound, listen(listener, 16) == 0 else {
      close(listener)
      throw TestFailure("listening on 127.0.0.1: \(String(cString: strerror(errno)))")
    }
    self.listener = listener
    port = Int(UInt16(bigEndian: address.sin_port))
    Thread { [self] in serve() }.start()
  }

  /// Requests answered so far.
  var requestCount: Int { requests.value }

  /// Stops accepting and waits for the serving thread. The port is then closed.
  func stop() {
    shutdown(listener, Int32(SHUT_RDWR))  // wakes the blocked accept
    finished.wait()
    close(listener)
  }

  private func serve() {
    while true {
      let connection = accept(listener, nil, nil)
      if connection < 0 {
        if errno == EINTR { continue }
        break
      }
      var timeout = timeval(tv_sec: 10, tv_usec: 0)
      setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      answer(connection)
      close(connection)
    }
    finished.signal()
  }

  private func answer(_ connection: Int32) {
    guard let body = readRequestBody(connection) else { return }
    let number = requests.increment()
    let requestFile = pki.path("request-\(port)-\(number).der")
    let responseFile = pki.path("response-\(port)-\(number).der")
    let head: String
    var payload: [UInt8] = []
    do {
      try Data(body).write(to: URL(fileURLWithPath: requestFile))
      try openssl(arguments + ["-reqin", requestFile, "-respout", responseFile])
      payload = Array(try Data(contentsOf: URL(fileURLWithPath: responseFile)))
      head = "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
    } catch {
      payload = Array("\(error)".utf8)
      head = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
    }
    let bytes = Array("\(head)Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n".utf8) + payload
    var sent = 0
    while sent < bytes.count {
      let count = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if count <= 0 { return }
      sent += count
    }
  }

  /// The body of one POST (framed by Content-Length), or nil if the client went away first.
  private func readRequestBody(_ connection: Int32) -> [UInt8]? {
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    let separator = Array("\r\n\r\n".utf8)
    while true {
      if let end = received.firstRange(of: separator) {
        let head = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
          .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        if received.count - end.upperBound >= length { return Array(received[end.upperBound..<(end.upperBound + length)]) }
      }
      let count = recv(connection, &chunk, chunk.count, 0)
      if count <= 0 { return nil }
      received += chunk[0..<count]
    }
  }
}

/// A thread-safe counter.
private final class Counter: @unchecked Sendable {
  // Invariant: `count` is only touched while `lock` is held.
  private let lock = NSLock()
  private var count = 0

  var value: Int { lock.withLock { count } }

  func increment() -> Int { lock.withLock { count += 1; return count } }
}
