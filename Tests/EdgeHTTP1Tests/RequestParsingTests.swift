import Testing

@testable import EdgeHTTP1

@Suite struct RequestParsingTests {
  @Test func simpleGet() throws {
    let text = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
    guard case .complete(let head, let consumed) = parseRequest(text) else {
      Issue.record("not complete")
      return
    }
    #expect(consumed == text.utf8.count)
    #expect(head.method == "GET")
    #expect(head.target == "/index.html?q=1")
    #expect(head.path == "/index.html?q=1")
    #expect(head.version == .http1_1)
    #expect(head.host == "example.com")
    #expect(head.framing == .none)
    #expect(head.keepAlive)
    #expect(!head.expectContinue)
    #expect(head.upgrade == nil)
    #expect(head.headers.count == 2)
    #expect(head.headers["accept"] == "*/*")
  }

  @Test func methodIsCaseSensitiveAndKeptAsReceived() {
    #expect(request("get / HTTP/1.1\r\nHost: a\r\n\r\n")?.method == "get")
  }

  @Test func fieldValuesAreTrimmedAndObsTextAllowed() {
    let head = request("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v  a l \t\r\nX-B:\r\nX-C: caf\u{e9}\r\n\r\n")
    #expect(head?.headers["x-a"] == "v  a l")
    #expect(head?.headers["x-b"] == "")
    #expect(head?.headers["x-c"] == "caf\u{e9}")
  }

  @Test func pipelinedRequestsInOneBuffer() {
    let first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
    let second = "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"
    let third = "GET /c HTTP/1.1\r\nHost: a\r\n\r\n"
    var bytes = Array((first + second + "abc" + third).utf8)
    var parser = RequestHeadParser()
    var paths: [String] = []
    var consumedCounts: [Int] = []
    while !bytes.isEmpty {
      let result = bytes.withUnsafeBytes { parser.parse($0) }
      guard case .complete(let head, let consumed) = result else {
        Issue.record("expected a complete head, got \(result)")
        return
      }
      paths.append(head.path)
      consumedCounts.append(consumed)
      var drop = consumed
      if case .length(let n) = head.framing { drop += n }
      bytes.removeFirst(drop)
    }
    #expect(paths == ["/a", "/b", "/c"])
    #expect(consumedCounts == [first.utf8.count, second.utf8.count, third.utf8.count])
  }

  @Test func headSplitByteByByte() {
    let text = "PUT /upload HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 10\r\nX-Long: "
      + String(repeating: "v", count: 300) + "\r\n\r\nBODY"
    let all = Array(text.utf8)
    var parser = RequestHeadParser()
    for end in 1...all.count {
      let result = Array(all[0..<end]).withUnsafeBytes { parser.parse($0) }
      if case .complete(let head, let consumed) = result {
        #expect(end == all.count - 4)
        #expect(consumed == all.count - 4)
        #expect(head.framing == .length(10))
        #expect(head.host == "example.com:8080")
        #expect(head.headers["x-long"]?.count == 300)
        return
      }
      #expect(result.isNeedMoreBytes, "at \(end) bytes: \(result)")
    }
    Issue.record("never completed")
  }

  @Test func parserCanBeReusedAfterReset() {
    var parser = RequestHeadParser()
    let partial = Array("GET /a HTTP/1.1\r\nHo".utf8)
    #expect(partial.withUnsafeBytes { parser.parse($0) }.isNeedMoreBytes)
    parser.reset()
    let other = Array("GET /b HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
    guard case .complete(let head, _) = other.withUnsafeBytes({ parser.parse($0) }) else {
      Issue.record("not complete")
      return
    }
    #expect(head.path == "/b")
  }

  @Test func leadingEmptyLinesAreSkipped() {
    let text = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
    guard case .complete(let head, let consumed) = parseRequest(text) else {
      Issue.record("not complete")
      return
    }
    #expect(head.method == "GET")
    #expect(consumed == text.utf8.count)
  }

  @Test(arguments: [
    ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
    ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false),
    ("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false),
    ("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true),
    ("GET / HTTP/1.0\r\n\r\n", false),
    ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
    ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
    ("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false),
  ])
  func keepAliveRules(text: String, keepAlive: Bool) {
    #expect(request(text)?.keepAlive == keepAlive)
  }

  @Test func http10WithoutHostIsAccepted() {
    let head = request("GET / HTTP/1.0\r\n\r\n")
    #expect(head?.version == .http1_0)
    #expect(head?.host == nil)
  }

  @Test(arguments: [
    ("Expect: 100-continue", true),
    ("Expect: 100-Continue", true),
    ("Expect:  100-CONTINUE ", true),
    ("Expect: something-else", false),
    ("X-Other: 1", false),
  ])
  func expectContinue(field: String, expected: Bool) {
    let head = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\(field)\r\n\r\n")
    #expect(head?.expectContinue == expected)
  }

  @Test func expectIsIgnoredInHTTP10() {
    #expect(request("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")?.expectContinue == false)
  }

  @Test func upgradeDetected() {
    let head = request(
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n")
    #expect(head?.upgrade == "websocket")
    #expect(head?.keepAlive == true)
  }

  @Test(arguments: [
    "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
  ])
  func upgradeNotDetected(text: String) {
    let head = request(text)
    #expect(head != nil)
    #expect(head?.upgrade == nil)
  }

  @Test func absoluteFormTakesTheAuthority() {
    let head = request("GET http://Example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other.org\r\n\r\n")
    #expect(head?.host == "Example.com:8080")
    #expect(head?.path == "/a/b?c=d")
    #expect(head?.target == "http://Example.com:8080/a/b?c=d")
    // RFC 9112 §3.2.2: the received Host is replaced by the target's authority.
    #expect(head?.headers["host"] == "Example.com:8080")
    #expect(head?.headers.values("host").count == 1)
  }

  @Test(arguments: [
    ("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", "/"),
    ("GET HTTPS://example.com?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", "/?x=1"),
    ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "*"),
    ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", ""),
  ])
  func targetForms(text: String, path: String) {
    #expect(request(text)?.path == path)
  }

  @Test func connectTakesTheAuthority() {
    let head = request("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n")
    #expect(head?.host == "[::1]:443")
    #expect(head?.target == "[::1]:443")
  }
}
