/// A parsed status line and header section, with framing and persistence worked out.
public struct ResponseHead: Equatable, Sendable {
  public var version: HTTPVersion
  /// The status code, 100 to 999.
  public var status: Int
  /// The reason phrase as received (possibly empty).
  public var reason: String
  public var headers: HTTPHeaders
  /// How the body is delimited: `.none` for 1xx, 204, 304 and answers to HEAD (and 2xx to CONNECT);
  /// else chunked, Content-Length, or until the server closes.
  public var framing: BodyFraming
  /// Whether the connection may carry another exchange after this response.
  public var keepAlive: Bool

  public init(
    version: HTTPVersion = .http1_1, status: Int, reason: String? = nil, headers: HTTPHeaders = HTTPHeaders(),
    framing: BodyFraming = .none, keepAlive: Bool = true
  ) {
    self.version = version
    self.status = status
    self.reason = reason ?? StatusText.reason(status)
    self.headers = headers
    self.framing = framing
    self.keepAlive = keepAlive
  }

  /// Appends `HTTP/1.1 <status> <reason>\r\n`, the fields and the empty line. The fields go as they
  /// are: framing and Connection are the caller's to set.
  public func encode(into out: inout [UInt8]) {
    encodeStatusLine(into: &out)
    headers.write(into: &out)
    out.append(ASCII.cr)
    out.append(ASCII.lf)
  }

  /// The status line alone, as HTTP/1.1 (a proxy writes the fields itself).
  public func encodeStatusLine(into out: inout [UInt8]) {
    out.append(contentsOf: "HTTP/1.1 ".utf8)
    StatusText.appendDecimal(status, to: &out)
    out.append(ASCII.space)
    for byte in reason.utf8 { out.append(byte == ASCII.cr || byte == ASCII.lf ? ASCII.space : byte) }
    out.append(ASCII.cr)
    out.append(ASCII.lf)
  }
}
