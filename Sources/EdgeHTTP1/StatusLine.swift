/// The grammar of a status line, `HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4).
struct StatusLine {
  var version: HTTPVersion
  var status: Int
  var reason: Range<Int>

  /// Splits and checks `line` (no CRLF): HTTP/1.0 or HTTP/1.1, three digits from 100, then a reason
  /// phrase of any text (HTAB, SP, VCHAR, obs-text), possibly empty, the space before it optional.
  static func parse(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTP1Error) -> StatusLine {
    let start = line.lowerBound
    guard line.count >= 12, bytes[start + 8] == ASCII.space else { throw HTTP1Error(.invalidStatusLine) }
    guard let version = HTTPVersion.parse(bytes.slice(start..<start + 8))?.highestSpoken else {
      throw HTTP1Error(.invalidVersion)
    }
    guard version.isSupported else { throw HTTP1Error(.unsupportedVersion) }
    let digits = start + 9..<start + 12
    guard digits.allSatisfy({ ASCII.isDigit(bytes[$0]) }), bytes[digits.lowerBound] != 0x30 else {
      throw HTTP1Error(.invalidStatusCode)
    }
    let status = digits.reduce(0) { $0 * 10 + Int(bytes[$1] &- 0x30) }
    var reason = digits.upperBound..<line.upperBound
    if !reason.isEmpty {
      guard bytes[reason.lowerBound] == ASCII.space else { throw HTTP1Error(.invalidStatusCode) }
      reason = reason.lowerBound + 1..<reason.upperBound
    }
    guard reason.allSatisfy({ ASCII.isFieldValueByte(bytes[$0]) }) else { throw HTTP1Error(.invalidStatusLine) }
    return StatusLine(version: version, status: status, reason: reason)
  }
}
