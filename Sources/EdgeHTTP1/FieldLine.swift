/// The grammar of one field line, `field-name ":" OWS field-value OWS` (RFC 9112 §5), shared by
/// header and trailer sections.
enum FieldLine {
  /// The name and the trimmed value of the field line `line` of `bytes` (no CR or LF inside).
  static func parse(
    _ bytes: UnsafeRawBufferPointer, _ line: Range<Int>
  ) throws(HTTP1Error) -> (name: Range<Int>, value: Range<Int>) {
    guard !line.isEmpty else { throw HTTP1Error(.missingColon) }
    if ASCII.isOWS(bytes[line.lowerBound]) { throw HTTP1Error(.obsoleteLineFolding) }
    var i = line.lowerBound
    while i < line.upperBound, ASCII.isTchar(bytes[i]) { i += 1 }
    guard i < line.upperBound, bytes[i] == ASCII.colon else { throw HTTP1Error(nameError(bytes, i..<line.upperBound)) }
    guard i > line.lowerBound else { throw HTTP1Error(.invalidFieldName) }
    let name = line.lowerBound..<i
    let value = ASCII.trimmingOWS(bytes, i + 1..<line.upperBound)
    for j in value where !ASCII.isFieldValueByte(bytes[j]) {
      throw HTTP1Error(.invalidFieldValue)
    }
    return (name, value)
  }

  /// Why the name ended at `rest.lowerBound` without a colon right there.
  private static func nameError(_ bytes: UnsafeRawBufferPointer, _ rest: Range<Int>) -> HTTP1Error.Reason {
    var i = rest.lowerBound
    while i < rest.upperBound, ASCII.isOWS(bytes[i]) { i += 1 }
    if i > rest.lowerBound, i < rest.upperBound, bytes[i] == ASCII.colon { return .whitespaceBeforeColon }
    return bytes[rest].contains(ASCII.colon) ? .invalidFieldName : .missingColon
  }

  /// Calls `body` with each line of `head` (CRLF-terminated lines, as `HeadScanner` vouches for),
  /// without its CRLF, stopping before the empty line.
  static func forEachLine(
    _ bytes: UnsafeRawBufferPointer, _ head: Range<Int>, _ body: (Range<Int>) throws(HTTP1Error) -> Void
  ) throws(HTTP1Error) {
    var start = head.lowerBound
    var i = start
    while i < head.upperBound {
      if bytes[i] == ASCII.cr {
        if i == start { return }
        try body(start..<i)
        i += 2
        start = i
      } else {
        i += 1
      }
    }
  }
}
