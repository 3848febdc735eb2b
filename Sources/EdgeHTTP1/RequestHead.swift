/// A parsed request line and header section, with what a proxy needs to know already worked out.
public struct RequestHead: Equatable, Sendable {
  /// The method token as received (case-sensitive, RFC 9110 §9.1).
  public var method: String
  /// The request target as received.
  public var target: String
  public var version: HTTPVersion
  public var headers: HTTPHeaders
  /// How the body is delimited, from Content-Length or Transfer-Encoding.
  public var framing: BodyFraming
  /// Whether the connection may carry another request after this one: HTTP/1.1 unless
  /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
  public var keepAlive: Bool
  /// `Expect: 100-continue` in an HTTP/1.1 request.
  public var expectContinue: Bool
  /// The Upgrade value, when an HTTP/1.1 request's Connection lists "upgrade".
  public var upgrade: String?
  /// The authority of an absolute-form or authority-form target, else the Host value.
  public var host: String?
  /// The origin-form path and query: the target itself, the path part of an absolute-form target,
  /// "*" for asterisk-form, "" for CONNECT. `encode` sends this, so rewriting it rewrites the request.
  public var path: String

  /// A request with the derived fields at their defaults for `headers` as given: no body,
  /// keep-alive per version.
  public init(
    method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
    framing: BodyFraming = .none, keepAlive: Bool? = nil, expectContinue: Bool = false, upgrade: String? = nil,
    host: String? = nil, path: String? = nil
  ) {
    self.method = method
    self.target = target
    self.version = version
    self.headers = headers
    self.framing = framing
    self.keepAlive = keepAlive ?? (version == .http1_1)
    self.expectContinue = expectContinue
    self.upgrade = upgrade
    self.host = host ?? headers["host"]
    self.path = path ?? target
  }

  /// Appends the request line (with `path`, or `target` for CONNECT), the fields and the empty line,
  /// as HTTP/1.1. The fields go as they are: framing, Host and Connection are the caller's to set.
  public func encode(into out: inout [UInt8]) {
    encodeRequestLine(into: &out)
    headers.write(into: &out)
    out.append(ASCII.cr)
    out.append(ASCII.lf)
  }

  /// The request line alone, as HTTP/1.1 (a proxy writes the fields itself).
  public func encodeRequestLine(into out: inout [UInt8]) {
    out.append(contentsOf: method.utf8)
    out.append(ASCII.space)
    out.append(contentsOf: (method == "CONNECT" || path.isEmpty ? target : path).utf8)
    out.append(contentsOf: " HTTP/1.1\r\n".utf8)
  }
}
