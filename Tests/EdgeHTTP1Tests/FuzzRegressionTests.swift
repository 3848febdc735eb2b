import Testing

@testable import EdgeHTTP1

/// Inputs the fuzz harnesses (Tests/fuzz) found, each fed again here after its fix.
@Suite struct FuzzRegressionTests {
  /// fuzz-request-head: `CONNECT [:43` was accepted with the host `[:43`, which no Host field may carry, so
  /// the head did not read back once encoded. An authority must be a valid Host value.
  @Test(arguments: [
    "CONNECT [:43 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
    "CONNECT a:b:443 HTTP/1.1\r\nHost: a\r\n\r\n",
    "CONNECT [::1]x:443 HTTP/1.1\r\nHost: a\r\n\r\n",
  ])
  func connectAuthorityMustBeAHost(text: String) {
    #expect(requestError(text) == HTTP1Error(.authorityFormNotConnect))
  }

  @Test(arguments: ["GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", "GET http://a:b:c/ HTTP/1.1\r\nHost: a\r\n\r\n"])
  func absoluteFormAuthorityMustBeAHost(text: String) {
    #expect(requestError(text) == HTTP1Error(.invalidTarget))
  }

  /// The round trip the harness checks: a head with an absolute-form target, encoded as edge forwards it,
  /// parses back to the same host; before the fix the Host field still named the other host.
  @Test func absoluteFormHostSurvivesEncoding() throws {
    let head = try #require(request("GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n"))
    var out: [UInt8] = []
    head.encode(into: &out)
    #expect(String(decoding: out, as: UTF8.self) == "GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n")
    #expect(request(String(decoding: out, as: UTF8.self))?.host == "a.example")
  }

  @Test func absoluteFormAddsHostToHTTP10() throws {
    let head = try #require(request("GET http://a.example:81/x HTTP/1.0\r\n\r\n"))
    #expect(head.headers.values("host") == ["a.example:81"])
  }

  /// RFC 9112 §2.3: HTTP/1.2 (a higher minor version) is read as HTTP/1.1; HTTP/2.0 stays 505.
  @Test func higherMinorVersionReadsAsHTTP11() throws {
    let head = try #require(request("GET / HTTP/1.2\r\nHost: a\r\n\r\n"))
    #expect(head.version == .http1_1)
    #expect(head.keepAlive)
    #expect(requestError("GET / HTTP/1.9\r\n\r\n") == HTTP1Error(.missingHost))  // 1.1 rules: Host required
    #expect(response("HTTP/1.3 200 OK\r\nContent-Length: 0\r\n\r\n")?.version == .http1_1)
  }
}
