/// The grammar of Content-Length (RFC 9110 §8.6, RFC 9112 §6.3).
enum ContentLength {
  /// The length a Content-Length value states: 1*DIGIT, or a list of identical such values
  /// (`5, 5`), which stands for one. Signs, spaces inside, empty elements or a value beyond
  /// `Int.max` are invalid; differing values conflict.
  static func parse(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTP1Error) -> Int {
    var result: Int?
    var failure: HTTP1Error.Reason?
    ASCII.forEachListElement(bytes, range) { element in
      guard let value = digits(bytes, element) else {
        failure = .invalidContentLength
        return false
      }
      if let result, result != value {
        failure = .conflictingContentLength
        return false
      }
      result = value
      return true
    }
    if let failure { throw HTTP1Error(failure) }
    guard let result else { throw HTTP1Error(.invalidContentLength) }
    return result
  }

  /// The decimal number `range` holds, or nil if it is empty, has a non-digit or overflows.
  private static func digits(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
    guard !range.isEmpty else { return nil }
    var value = 0
    for i in range {
      let byte = bytes[i]
      guard ASCII.isDigit(byte) else { return nil }
      let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times10.addingReportingOverflow(Int(byte &- 0x30))
      guard !overflow1, !overflow2 else { return nil }
      value = sum
    }
    return value
  }
}
