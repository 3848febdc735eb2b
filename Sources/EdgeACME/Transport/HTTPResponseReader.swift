/// Reads one HTTP/1.1 response from a stream: interim 1xx skipped, body framed by chunked coding,
/// Content-Length, or the end of the stream (RFC 9112 §6.3).
struct HTTPResponseReader {
  static let maximumHeadBytes = 64 * 1024
  static let maximumBodyBytes = 16 * 1024 * 1024

  private let stream: any ByteStream
  private let deadline: ContinuousClock.Instant
  private var buffer: [UInt8] = []
  private var offset = 0
  /// Whether any byte arrived: a reused connection that fails before this was stale, and the request
  /// may be sent again on a fresh one.
  private(set) var receivedAnything = false

  init(stream: any ByteStream, deadline: ContinuousClock.Instant) {
    self.stream = stream
    self.deadline = deadline
  }

  /// The response, and whether the connection may carry another request.
  mutating func read(requestMethod: String) throws -> (ACMEHTTPResponse, keepAlive: Bool) {
    while true {
      let statusLine = try line()
      let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
      guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status)
      else { throw ACMEError(.transport, "malformed status line '\(statusLine.prefix(80))'") }
      var headers = ACMEHTTPHeaders()
      while true {
        let field = try line()
        if field.isEmpty { break }
        guard let colon = field.firstIndex(of: ":") else { throw ACMEError(.transport, "malformed header field") }
        headers.add(String(field[..<colon]), field[field.index(after: colon)...].trimmingSpaces)
      }
      if (100..<200).contains(status) && status != 101 { continue }

      let connection = headers.values("Connection").joined(separator: ",").lowercased()
      var keepAlive = parts[0] == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
      let body: [UInt8]
      if requestMethod == "HEAD" || status == 204 || status == 304 || status < 200 {
        body = []
      } else if let coding = headers.values("Transfer-Encoding").joined(separator: ",").split(separator: ",").last,
        coding.trimmingSpaces.lowercased() == "chunked"
      {
        body = try chunkedBody()
      } else if let length = headers["Content-Length"] {
        guard let count = Int(length.trimmingSpaces), count >= 0 else {
          throw ACMEError(.transport, "bad Content-Length '\(length)'")
        }
        guard count <= Self.maximumBodyBytes else {
          throw ACMEError(.transport, "response body of \(count) bytes refused")
        }
        body = try bytes(count)
      } else {
        body = try untilEnd()
        keepAlive = false
      }
      return (ACMEHTTPResponse(status: status, headers: headers, body: body), keepAlive)
    }
  }

  /// One line without its CRLF (a bare LF is tolerated).
  private mutating func line() throws -> String {
    var scanned = 0  // bytes after `offset` known to hold no LF (`more()` may move `offset`)
    while true {
      if let end = buffer[(offset + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
        var lineEnd = end
        if lineEnd > offset && buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        let text = String(decoding: buffer[offset..<lineEnd], as: UTF8.self)
        offset = end + 1
        return text
      }
      scanned = buffer.count - offset
      guard buffer.count - offset < Self.maximumHeadBytes else { throw ACMEError(.transport, "response head too large") }
      guard try more() else { throw ACMEError(.transport, "connection closed before the response was complete") }
    }
  }

  private mutating func bytes(_ count: Int) throws -> [UInt8] {
    while buffer.count - offset < count {
      guard try more() else { throw ACMEError(.transport, "connection closed inside the response body") }
    }
    let result = Array(buffer[offset..<offset + count])
    offset += count
    return result
  }

  private mutating func untilEnd() throws -> [UInt8] {
    while try more() {
      guard buffer.count - offset <= Self.maximumBodyBytes else { throw ACMEError(.transport, "response body too large") }
    }
    let result = Array(buffer[offset...])
    offset = buffer.count
    return result
  }

  private mutating func chunkedBody() throws -> [UInt8] {
    var body: [UInt8] = []
    while true {
      let sizeLine = try line()
      let digits = sizeLine.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces } ?? ""
      guard let size = Int(digits, radix: 16), size >= 0 else {
        throw ACMEError(.transport, "bad chunk size '\(sizeLine)'")
      }
      if size == 0 {
        while try !line().isEmpty {}  // trailer fields, ignored
        return body
      }
      // Compared without adding: a size near Int.max plus the body so far would overflow and trap.
      guard size <= Self.maximumBodyBytes - body.count else { throw ACMEError(.transport, "response body too large") }
      body += try bytes(size)
      guard try line().isEmpty else { throw ACMEError(.transport, "chunk not followed by CRLF") }
    }
  }

  private mutating func more() throws -> Bool {
    if offset > 65_536 {
      buffer.removeFirst(offset)
      offset = 0
    }
    let gotBytes = try stream.read(into: &buffer, deadline: deadline)
    if gotBytes { receivedAnything = true }
    return gotBytes
  }
}

extension StringProtocol {
  /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
  var trimmingSpaces: String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
    return String(self[first...last])
  }
}
