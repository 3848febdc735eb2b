/// Collects the field lines of a head into `HTTPHeaders` and notes, on the way, the fields that
/// decide framing and connection handling.
struct FieldSection {
  var headers: HTTPHeaders
  var hostCount = 0
  var hostValue: Range<Int>?
  var transferEncodingCount = 0
  /// The value of the last Transfer-Encoding field.
  var transferEncoding: Range<Int>?
  var contentLength: Int?
  /// Tokens the Connection fields list.
  var connectionClose = false
  var connectionKeepAlive = false
  var connectionUpgrade = false
  /// An Expect field is exactly `100-continue`.
  var expectContinue = false
  /// The value of the first Upgrade field.
  var upgrade: Range<Int>?

  init(headerCapacity: Int, byteCapacity: Int) {
    headers = HTTPHeaders(reservingFields: headerCapacity, bytes: byteCapacity)
  }

  /// Parses the field line `line` and appends it.
  mutating func add(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTP1Error) {
    let (nameRange, valueRange) = try FieldLine.parse(bytes, line)
    let name = bytes.slice(nameRange)
    headers.append(name: name, value: bytes.slice(valueRange))
    switch name.count {
    case 4 where ASCII.matches(name, "host"):
      hostCount += 1
      hostValue = valueRange
    case 6 where ASCII.matches(name, "expect"):
      if ASCII.matches(bytes.slice(valueRange), "100-continue") { expectContinue = true }
    case 7 where ASCII.matches(name, "upgrade"):
      if upgrade == nil { upgrade = valueRange }
    case 10 where ASCII.matches(name, "connection"):
      noteConnectionTokens(bytes, valueRange)
    case 14 where ASCII.matches(name, "content-length"):
      let length = try ContentLength.parse(bytes, valueRange)
      if let contentLength, contentLength != length { throw HTTP1Error(.conflictingContentLength) }
      contentLength = length
    case 17 where ASCII.matches(name, "transfer-encoding"):
      transferEncodingCount += 1
      transferEncoding = valueRange
    default:
      break
    }
  }

  private mutating func noteConnectionTokens(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>) {
    ASCII.forEachListElement(bytes, value) { element in
      let token = bytes.slice(element)
      switch token.count {
      case 5 where ASCII.matches(token, "close"): connectionClose = true
      case 7 where ASCII.matches(token, "upgrade"): connectionUpgrade = true
      case 10 where ASCII.matches(token, "keep-alive"): connectionKeepAlive = true
      default: break
      }
      return true
    }
  }

  /// The body framing of a request: only `Transfer-Encoding: chunked` alone, in HTTP/1.1, without
  /// Content-Length, is chunked (RFC 9112 §6.1, §6.3).
  func framing(_ bytes: UnsafeRawBufferPointer, version: HTTPVersion) throws(HTTP1Error) -> BodyFraming {
    guard let transferEncoding else { return contentLength.map { .length($0) } ?? .none }
    if transferEncodingCount > 1 { throw HTTP1Error(.duplicateTransferEncoding) }
    if version == .http1_0 { throw HTTP1Error(.transferEncodingInHTTP10) }
    if contentLength != nil { throw HTTP1Error(.contentLengthWithTransferEncoding) }
    switch TransferCoding.classify(bytes, transferEncoding) {
    case .chunked: return .chunked
    case .malformed: throw HTTP1Error(.invalidTransferEncoding)
    case .unsupported: throw HTTP1Error(.unsupportedTransferCoding)
    }
  }

  /// The Host value of a request, checked: required once in HTTP/1.1, never twice, well-formed.
  func host(_ bytes: UnsafeRawBufferPointer, version: HTTPVersion) throws(HTTP1Error) -> Range<Int>? {
    if hostCount > 1 { throw HTTP1Error(.duplicateHost) }
    guard let hostValue else {
      if version == .http1_1 { throw HTTP1Error(.missingHost) }
      return nil
    }
    guard ASCII.isValidHost(bytes, hostValue) else { throw HTTP1Error(.invalidHost) }
    return hostValue
  }
}
