import Testing

@testable import EdgeHTTP1

@Suite struct ResponseParsingTests {
  @Test func simpleResponse() {
    let text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
    guard case .complete(let head, let consumed) = parseResponse(text) else {
      Issue.record("not complete")
      return
    }
    #expect(consumed == text.utf8.count - 5)
    #expect(head.version == .http1_1)
    #expect(head.status == 200)
    #expect(head.reason == "OK")
    #expect(head.framing == .length(5))
    #expect(head.keepAlive)
    #expect(head.headers["content-type"] == "text/plain")
  }

  @Test(arguments: [
    ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD", BodyFraming.none),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD", .none),
    ("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", "GET", .none),
    ("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "GET", .none),
    ("HTTP/1.1 100 Continue\r\n\r\n", "POST", .none),
    ("HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n", "GET", .none),
    ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "GET", .none),
    ("HTTP/1.1 200 Connection Established\r\n\r\n", "CONNECT", .none),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", .chunked),
    ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "GET", .length(10)),
    ("HTTP/1.1 200 OK\r\nContent-Length: 10, 10\r\n\r\n", "GET", .length(10)),
    ("HTTP/1.1 200 OK\r\n\r\n", "GET", .untilClose),
    ("HTTP/1.0 200 OK\r\n\r\n", "GET", .untilClose),
    ("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", "GET", .length(3)),
    ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", "POST", .length(0)),
  ])
  func framing(text: String, method: String, framing: BodyFraming) {
    #expect(response(text, method: method)?.framing == framing)
  }

  @Test(arguments: [
    ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", true),
    ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n", false),
    ("HTTP/1.1 200 OK\r\n\r\n", false),
    ("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false),
    ("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n", true),
    ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", false),
    ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false),
    ("HTTP/1.1 204 No Content\r\n\r\n", true),
  ])
  func keepAlive(text: String, keepAlive: Bool) {
    #expect(response(text)?.keepAlive == keepAlive)
  }

  @Test func bothFramingsPreferChunked() {
    let head = response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
    #expect(head?.framing == .chunked)
    #expect(head?.keepAlive == false)
  }

  @Test(arguments: [
    ("HTTP/1.1 200 OK\r\n\r\n", "OK"),
    ("HTTP/1.1 200 \r\n\r\n", ""),
    ("HTTP/1.1 200\r\n\r\n", ""),
    ("HTTP/1.1 404 Not  Found\t(really)\r\n\r\n", "Not  Found\t(really)"),
    ("HTTP/1.1 599 Whatever \u{e9}\r\n\r\n", "Whatever \u{e9}"),
  ])
  func tolerantReasonPhrase(text: String, reason: String) {
    #expect(response(text)?.reason == reason)
  }

  @Test(arguments: [
    ("HTTP/1.1 099 Low\r\n\r\n", HTTP1Error.Reason.invalidStatusCode),
    ("HTTP/1.1 20 OK\r\n\r\n", .invalidStatusCode),
    ("HTTP/1.1 2000 OK\r\n\r\n", .invalidStatusCode),
    ("HTTP/1.1 2x0 OK\r\n\r\n", .invalidStatusCode),
    ("HTTP/1.1\r\n\r\n", .invalidStatusLine),
    ("HTTP/1.1  200 OK\r\n\r\n", .invalidStatusCode),
    ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion),
    ("HTTX/1.1 200 OK\r\n\r\n", .invalidVersion),
    ("HTTP/1.1 200 O\u{1}K\r\n\r\n", .invalidStatusLine),
    ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .conflictingContentLength),
    ("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", .conflictingContentLength),
    ("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", .invalidContentLength),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferCoding),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferCoding),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .unsupportedTransferCoding),
    ("HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n", .bareLF),
    ("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", .obsoleteLineFolding),
    ("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", .whitespaceBeforeColon),
  ])
  func rejected(text: String, reason: HTTP1Error.Reason) {
    #expect(responseError(text) == HTTP1Error(status: 502, reason: reason))
  }

  @Test func interimThenFinalOnTheSameBuffer() {
    let interim = "HTTP/1.1 100 Continue\r\n\r\n"
    let final = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
    var bytes = Array((interim + final).utf8)
    var parser = ResponseHeadParser()
    guard case .complete(let first, let consumed) = bytes.withUnsafeBytes({ parser.parse($0, requestMethod: "POST") })
    else {
      Issue.record("no interim response")
      return
    }
    #expect(first.status == 100)
    #expect(consumed == interim.utf8.count)
    bytes.removeFirst(consumed)
    guard case .complete(let second, _) = bytes.withUnsafeBytes({ parser.parse($0, requestMethod: "POST") }) else {
      Issue.record("no final response")
      return
    }
    #expect(second.status == 201)
    #expect(second.framing == .length(0))
  }

  @Test func responseSplitByteByByte() {
    let all = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nServer: x\r\n\r\n".utf8)
    var parser = ResponseHeadParser()
    for end in 1..<all.count {
      #expect(Array(all[0..<end]).withUnsafeBytes { parser.parse($0, requestMethod: "GET") }.isNeedMoreBytes)
    }
    guard case .complete(let head, let consumed) = all.withUnsafeBytes({ parser.parse($0, requestMethod: "GET") })
    else {
      Issue.record("not complete")
      return
    }
    #expect(consumed == all.count)
    #expect(head.framing == .chunked)
  }

  @Test func headTooLargeIsA502() {
    var parser = ResponseHeadParser(limits: HTTP1Limits(maxHeadBytes: 64, maxURIBytes: 8, maxHeaderCount: 4))
    let bytes = Array(("HTTP/1.1 200 OK\r\nX: " + String(repeating: "x", count: 100)).utf8)
    guard case .invalid(let error) = bytes.withUnsafeBytes({ parser.parse($0, requestMethod: "GET") }) else {
      Issue.record("not rejected")
      return
    }
    #expect(error == HTTP1Error(status: 502, reason: .headTooLarge))
  }
}
