/// Parses the response heads an upstream sends, as strictly on framing as requests (a response
/// whose length is ambiguous could desynchronise a pooled connection) and tolerantly on the reason
/// phrase. Every error carries status 502.
///
/// Incremental in the same way as `RequestHeadParser`. An interim (1xx) response is a complete head
/// of its own; parse again after it for the final one.
public struct ResponseHeadParser: Sendable {
  private var scanner: HeadScanner

  public init(limits: HTTP1Limits = HTTP1Limits(maxHeadBytes: 65536, maxURIBytes: 8192, maxHeaderCount: 200)) {
    scanner = HeadScanner(limits: limits, measuresTarget: false)
  }

  /// The limits this parser enforces.
  public var limits: HTTP1Limits { scanner.limits }

  /// Forgets any partly scanned head.
  public mutating func reset() { scanner.reset() }

  /// Parses a head at the start of `bytes` answering a request with `requestMethod`.
  public mutating func parse(_ bytes: UnsafeRawBufferPointer, requestMethod: String) -> HeadParseResult<ResponseHead> {
    switch scanner.scan(bytes) {
    case .needMoreBytes:
      return .needMoreBytes
    case .invalid(let reason):
      scanner.reset()
      return .invalid(HTTP1Error(status: 502, reason: reason))
    case .complete(let start, let end, let lines):
      scanner.reset()
      do {
        return .complete(try Self.head(bytes, start..<end, lines: lines, requestMethod: requestMethod), consumed: end)
      } catch {
        return .invalid(HTTP1Error(status: 502, reason: error.reason))
      }
    }
  }

  static func head(
    _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, lines: Int, requestMethod: String
  ) throws(HTTP1Error) -> ResponseHead {
    var lineEnd = range.lowerBound
    while bytes[lineEnd] != ASCII.cr { lineEnd += 1 }
    let line = try StatusLine.parse(bytes, range.lowerBound..<lineEnd)
    var fields = FieldSection(headerCapacity: lines - 1 + 4, byteCapacity: range.count + 64)
    try FieldLine.forEachLine(bytes, lineEnd + 2..<range.upperBound) { line throws(HTTP1Error) in
      try fields.add(bytes, line)
    }
    var head = ResponseHead(
      version: line.version, status: line.status, reason: ASCII.string(bytes, line.reason),
      headers: fields.headers, framing: .none, keepAlive: true)
    head.keepAlive = !fields.connectionClose && (line.version == .http1_1 || fields.connectionKeepAlive)

    let status = line.status
    let connectEstablished = requestMethod == "CONNECT" && status / 100 == 2
    if status < 200 || status == 204 || status == 304 || requestMethod == "HEAD" || connectEstablished {
      return head  // no body, whatever the fields say (RFC 9112 §6.3 rules 1 and 2)
    }
    if let transferEncoding = fields.transferEncoding {
      guard fields.transferEncodingCount == 1,
        TransferCoding.classify(bytes, transferEncoding) == .chunked
      else { throw HTTP1Error(.unsupportedTransferCoding) }
      head.framing = .chunked
      // Both framings, or chunked from HTTP/1.0, is a message to read once and not trust after.
      if fields.contentLength != nil || line.version == .http1_0 { head.keepAlive = false }
    } else if let length = fields.contentLength {
      head.framing = .length(length)
    } else {
      head.framing = .untilClose
      head.keepAlive = false
    }
    return head
  }
}
