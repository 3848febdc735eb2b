/// The grammar of a request line, `method SP request-target SP HTTP-version` (RFC 9112 §3).
struct RequestLine {
  var method: Range<Int>
  var target: Range<Int>
  var version: HTTPVersion

  /// Splits and checks `line` (no CRLF): a token method, single spaces, a target of at most
  /// `maxURIBytes`, and HTTP/1.0 or HTTP/1.1 — HTTP/1.2 and later minor versions read as HTTP/1.1 (RFC 9112
  /// §2.3: a recipient SHOULD process a higher minor version as the highest it implements); another
  /// well-formed version: 505.
  static func parse(
    _ bytes: UnsafeRawBufferPointer, _ line: Range<Int>, limits: HTTP1Limits
  ) throws(HTTP1Error) -> RequestLine {
    var firstSpace = line.lowerBound
    while firstSpace < line.upperBound, bytes[firstSpace] != ASCII.space {
      guard ASCII.isTchar(bytes[firstSpace]) else { throw HTTP1Error(.invalidMethod) }
      firstSpace += 1
    }
    guard firstSpace > line.lowerBound, firstSpace < line.upperBound,
      let lastSpace = bytes[line].lastIndex(of: ASCII.space), lastSpace > firstSpace
    else { throw HTTP1Error(.invalidRequestLine) }
    guard let version = HTTPVersion.parse(bytes.slice(lastSpace + 1..<line.upperBound))?.highestSpoken else {
      throw HTTP1Error(.invalidVersion)
    }
    guard version.isSupported else { throw HTTP1Error(.unsupportedVersion) }
    let target = firstSpace + 1..<lastSpace
    guard !target.isEmpty, bytes[target.lowerBound] != ASCII.space, bytes[target.upperBound - 1] != ASCII.space
    else { throw HTTP1Error(.invalidRequestLine) }
    guard target.count <= limits.maxURIBytes else { throw HTTP1Error(.uriTooLong) }
    return RequestLine(method: line.lowerBound..<firstSpace, target: target, version: version)
  }
}
