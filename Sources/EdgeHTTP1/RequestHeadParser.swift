/// Parses request heads strictly (RFC 9112), so that what this proxy accepts is unambiguous to
/// every server behind it: no bare CR or LF, no obs-fold, no whitespace before a colon, exactly
/// one Host, one unambiguous body framing.
///
/// Incremental: pass everything received and not yet consumed, again with more bytes each time;
/// the parser remembers how far it scanned. After `.complete` it starts over by itself, ready for
/// the bytes after `consumed` (a pipelined request); `reset()` abandons a half-read head.
public struct RequestHeadParser: Sendable {
  private var scanner: HeadScanner

  public init(limits: HTTP1Limits = HTTP1Limits()) {
    scanner = HeadScanner(limits: limits, measuresTarget: true)
  }

  /// The limits this parser enforces.
  public var limits: HTTP1Limits { scanner.limits }

  /// Forgets any partly scanned head, for the next request on a connection.
  public mutating func reset() { scanner.reset() }

  /// Parses a head at the start of `bytes`, which must begin with the bytes of the previous call
  /// (since the last `.complete` or `reset()`).
  public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> HeadParseResult<RequestHead> {
    switch scanner.scan(bytes) {
    case .needMoreBytes:
      return .needMoreBytes
    case .invalid(let reason):
      scanner.reset()
      return .invalid(HTTP1Error(reason))
    case .complete(let start, let end, let lines):
      scanner.reset()
      do {
        return .complete(try Self.head(bytes, start..<end, lines: lines, limits: limits), consumed: end)
      } catch {
        return .invalid(error)
      }
    }
  }

  /// Builds the head from its complete bytes `range` (start line to empty line).
  static func head(
    _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, lines: Int, limits: HTTP1Limits
  ) throws(HTTP1Error) -> RequestHead {
    var lineEnd = range.lowerBound
    while bytes[lineEnd] != ASCII.cr { lineEnd += 1 }
    let line = try RequestLine.parse(bytes, range.lowerBound..<lineEnd, limits: limits)
    let method = bytes.slice(line.method)
    let parts = try RequestTarget.parse(bytes, line.target, method: method)

    var fields = FieldSection(headerCapacity: lines - 1 + 6, byteCapacity: range.count + 128)
    try FieldLine.forEachLine(bytes, lineEnd + 2..<range.upperBound) { line throws(HTTP1Error) in
      try fields.add(bytes, line)
    }
    let version = line.version
    let framing = try fields.framing(bytes, version: version)
    let hostValue = try fields.host(bytes, version: version)

    let target = ASCII.string(bytes, line.target)
    var head = RequestHead(
      method: ASCII.string(bytes, line.method), target: target, version: version, headers: fields.headers,
      framing: framing, keepAlive: false, host: "", path: parts.path ?? target)
    head.host = parts.authority.map { ASCII.string(bytes, $0) } ?? hostValue.map { ASCII.string(bytes, $0) }
    if let authority = parts.authority, !parts.isConnect {
      // RFC 9112 §3.2.2: with an absolute-form target the Host field is ignored and replaced by the
      // target's authority. Done here, so routing, placeholders and the forwarded request all see the
      // one host the request is routed by (an upstream never gets a Host the site's routes did not).
      head.headers.set("Host", ASCII.string(bytes, authority))
    }
    head.keepAlive = !fields.connectionClose && (version == .http1_1 || fields.connectionKeepAlive)
    if version == .http1_1 {
      head.expectContinue = fields.expectContinue
      if fields.connectionUpgrade, let upgrade = fields.upgrade { head.upgrade = ASCII.string(bytes, upgrade) }
    }
    return head
  }
}
