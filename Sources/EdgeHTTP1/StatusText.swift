/// Reason phrases, and complete small responses for answering locally (errors, redirects).
public enum StatusText {
  /// The standard reason phrase of `status` (RFC 9110 §15); "Unknown" for codes not listed.
  public static func reason(_ status: Int) -> String {
    switch status {
    case 100: "Continue"
    case 101: "Switching Protocols"
    case 103: "Early Hints"
    case 200: "OK"
    case 201: "Created"
    case 202: "Accepted"
    case 204: "No Content"
    case 206: "Partial Content"
    case 301: "Moved Permanently"
    case 302: "Found"
    case 303: "See Other"
    case 304: "Not Modified"
    case 307: "Temporary Redirect"
    case 308: "Permanent Redirect"
    case 400: "Bad Request"
    case 401: "Unauthorized"
    case 403: "Forbidden"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 408: "Request Timeout"
    case 409: "Conflict"
    case 410: "Gone"
    case 411: "Length Required"
    case 413: "Content Too Large"
    case 414: "URI Too Long"
    case 415: "Unsupported Media Type"
    case 417: "Expectation Failed"
    case 421: "Misdirected Request"
    case 426: "Upgrade Required"
    case 429: "Too Many Requests"
    case 431: "Request Header Fields Too Large"
    case 500: "Internal Server Error"
    case 501: "Not Implemented"
    case 502: "Bad Gateway"
    case 503: "Service Unavailable"
    case 504: "Gateway Timeout"
    case 505: "HTTP Version Not Supported"
    default: "Unknown"
    }
  }

  /// A complete HTTP/1.1 response: status line, Content-Type `text/plain; charset=utf-8`,
  /// Content-Length, `Connection: close` when `close`, `extraHeaders`, then `body`.
  public static func simpleResponse(
    status: Int, body: String, close: Bool, extraHeaders: [(String, String)] = []
  ) -> [UInt8] {
    var headers = HTTPHeaders(reservingFields: 3 + extraHeaders.count, bytes: 96)
    headers.add("Content-Type", "text/plain; charset=utf-8")
    headers.add("Content-Length", String(body.utf8.count))
    if close { headers.add("Connection", "close") }
    for (name, value) in extraHeaders { headers.add(name, value) }
    var out: [UInt8] = []
    out.reserveCapacity(128 + body.utf8.count)
    ResponseHead(status: status, headers: headers).encode(into: &out)
    out.append(contentsOf: body.utf8)
    return out
  }

  /// Appends the decimal digits of a non-negative `value`.
  static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
    guard value >= 10 else { return out.append(0x30 &+ UInt8(truncatingIfNeeded: max(value, 0))) }
    appendDecimal(value / 10, to: &out)
    out.append(0x30 &+ UInt8(truncatingIfNeeded: value % 10))
  }
}
