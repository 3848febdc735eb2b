import Testing

@testable import EdgeHTTP1

/// One malformed request and the exact error it must produce.
struct Rejection: Sendable, CustomTestStringConvertible {
  var name: String
  var text: String
  var status: Int
  var reason: HTTP1Error.Reason
  var testDescription: String { name }

  init(_ name: String, _ text: String, _ status: Int, _ reason: HTTP1Error.Reason) {
    self.name = name
    self.text = text
    self.status = status
    self.reason = reason
  }
}

let hostLine = "Host: a\r\n"

@Suite struct RequestRejectionTests {
  static let requestLine: [Rejection] = [
    Rejection("method not a token", "GE(T / HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidMethod),
    Rejection("empty method", " / HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidRequestLine),
    Rejection("double space before target", "GET  / HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidRequestLine),
    Rejection("double space before version", "GET /  HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidRequestLine),
    Rejection("no version", "GET /\r\n\(hostLine)\r\n", 400, .invalidRequestLine),
    Rejection("tab separator", "GET\t/ HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidMethod),
    Rejection("trailing space", "GET / HTTP/1.1 \r\n\(hostLine)\r\n", 400, .invalidVersion),
    Rejection("lower-case version", "GET / http/1.1\r\n\(hostLine)\r\n", 400, .invalidVersion),
    Rejection("garbage version", "GET / HTTP/1.x\r\n\(hostLine)\r\n", 400, .invalidVersion),
    Rejection("two-digit version", "GET / HTTP/1.10\r\n\(hostLine)\r\n", 400, .invalidVersion),
    Rejection("HTTP/2.0", "GET / HTTP/2.0\r\n\(hostLine)\r\n", 505, .unsupportedVersion),
    Rejection("HTTP/3.1", "GET / HTTP/3.1\r\n\(hostLine)\r\n", 505, .unsupportedVersion),
    Rejection("HTTP/0.9", "GET / HTTP/0.9\r\n\(hostLine)\r\n", 505, .unsupportedVersion),
  ]

  static let targets: [Rejection] = [
    Rejection("space in target", "GET /a b HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidTarget),
    Rejection("control in target", "GET /a\u{1}b HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidTarget),
    Rejection("DEL in target", "GET /a\u{7F} HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidTarget),
    Rejection("non-ASCII in target", "GET /caf\u{e9} HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidTarget),
    Rejection("relative target", "GET index.html HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidTarget),
    Rejection("asterisk with GET", "GET * HTTP/1.1\r\n\(hostLine)\r\n", 400, .asteriskFormNotOptions),
    Rejection("authority-form with GET", "GET example.com:443 HTTP/1.1\r\n\(hostLine)\r\n", 400, .authorityFormNotConnect),
    Rejection("CONNECT with origin-form", "CONNECT / HTTP/1.1\r\n\(hostLine)\r\n", 400, .authorityFormNotConnect),
    Rejection("CONNECT without port", "CONNECT example.com HTTP/1.1\r\n\(hostLine)\r\n", 400, .authorityFormNotConnect),
    Rejection("userinfo", "GET http://u:p@example.com/ HTTP/1.1\r\n\(hostLine)\r\n", 400, .userinfoInTarget),
    Rejection("empty authority", "GET http:///a HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidTarget),
    Rejection("unknown scheme", "GET ftp://example.com/ HTTP/1.1\r\n\(hostLine)\r\n", 400, .invalidTarget),
  ]

  static let lines: [Rejection] = [
    Rejection("bare LF after request line", "GET / HTTP/1.1\n\(hostLine)\r\n", 400, .bareLF),
    Rejection("bare LF after field", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400, .bareLF),
    Rejection("bare LF as end of head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400, .bareLF),
    Rejection("bare CR in request line", "GET /\r HTTP/1.1\r\n\(hostLine)\r\n", 400, .bareCR),
    Rejection("bare CR in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, .bareCR),
    Rejection("obs-fold with space", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, .obsoleteLineFolding),
    Rejection("obs-fold with tab", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400, .obsoleteLineFolding),
    Rejection("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, .whitespaceBeforeColon),
    Rejection("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, .whitespaceBeforeColon),
    Rejection("no colon", "GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", 400, .missingColon),
    Rejection("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400, .invalidFieldName),
    Rejection("name not a token", "GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n", 400, .invalidFieldName),
    Rejection("NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", 400, .invalidFieldValue),
    Rejection("DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}\r\n\r\n", 400, .invalidFieldValue),
    Rejection("control in value", "GET / HTTP/1.1\r\nHost: a\r\nX: \u{1B}[0m\r\n\r\n", 400, .invalidFieldValue),
  ]

  static let host: [Rejection] = [
    Rejection("missing Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, .missingHost),
    Rejection("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, .duplicateHost),
    Rejection("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, .invalidHost),
    Rejection("Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, .invalidHost),
    Rejection("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, .invalidHost),
    Rejection("Host with tab", "GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n", 400, .invalidHost),
    Rejection("Host with bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400, .invalidHost),
    Rejection("duplicate Host in 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, .duplicateHost),
  ]

  static let framing: [Rejection] = [
    Rejection("signed length", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: +5\r\n\r\n", 400, .invalidContentLength),
    Rejection("negative length", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: -1\r\n\r\n", 400, .invalidContentLength),
    Rejection("empty length", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: \r\n\r\n", 400, .invalidContentLength),
    Rejection("hex length", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: 0x5\r\n\r\n", 400, .invalidContentLength),
    Rejection("space in length", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: 1 2\r\n\r\n", 400, .invalidContentLength),
    Rejection(
      "overflowing length", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: 99999999999999999999\r\n\r\n", 400,
      .invalidContentLength),
    Rejection("empty list element", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: 5,,5\r\n\r\n", 400, .invalidContentLength),
    Rejection("differing list", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: 5, 6\r\n\r\n", 400, .conflictingContentLength),
    Rejection(
      "differing fields", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400,
      .conflictingContentLength),
    Rejection(
      "TE and CL", "POST / HTTP/1.1\r\n\(hostLine)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
      .contentLengthWithTransferEncoding),
    Rejection(
      "two TE fields", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
      .duplicateTransferEncoding),
    Rejection("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, .transferEncodingInHTTP10),
    Rejection("chunked, identity", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: chunked, identity\r\n\r\n", 400, .invalidTransferEncoding),
    Rejection("identity", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: identity\r\n\r\n", 400, .invalidTransferEncoding),
    Rejection("gzip, chunked", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: gzip, chunked\r\n\r\n", 400, .invalidTransferEncoding),
    Rejection("chunked twice", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: chunked, chunked\r\n\r\n", 400, .invalidTransferEncoding),
    Rejection("chunked with comma", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: chunked,\r\n\r\n", 400, .invalidTransferEncoding),
    Rejection("empty TE", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: \r\n\r\n", 400, .invalidTransferEncoding),
    Rejection("quoted chunked", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: \"chunked\"\r\n\r\n", 400, .invalidTransferEncoding),
    Rejection("gzip alone", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: gzip\r\n\r\n", 501, .unsupportedTransferCoding),
    Rejection("unknown coding", "POST / HTTP/1.1\r\n\(hostLine)Transfer-Encoding: xchunked\r\n\r\n", 501, .unsupportedTransferCoding),
  ]

  @Test(arguments: requestLine + targets)
  func startLine(_ case_: Rejection) { check(case_) }

  @Test(arguments: lines)
  func fieldLines(_ case_: Rejection) { check(case_) }

  @Test(arguments: host)
  func hostField(_ case_: Rejection) { check(case_) }

  @Test(arguments: framing)
  func bodyFraming(_ case_: Rejection) { check(case_) }

  private func check(_ case_: Rejection) {
    let error = requestError(case_.text)
    #expect(error == HTTP1Error(status: case_.status, reason: case_.reason), "\(case_.name)")
  }

  @Test func errorDescriptionNamesStatusAndCause() {
    #expect(HTTP1Error(.bareLF).description == "400 line ended by LF without CR")
    #expect(HTTP1Error(.uriTooLong).status == 414)
  }
}
