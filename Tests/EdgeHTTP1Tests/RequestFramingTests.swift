import Testing

@testable import EdgeHTTP1

@Suite struct RequestFramingTests {
  @Test(arguments: [
    ("", BodyFraming.none),
    ("Content-Length: 0\r\n", .length(0)),
    ("Content-Length: 42\r\n", .length(42)),
    ("Content-Length: 007\r\n", .length(7)),
    ("Content-Length: 5, 5\r\n", .length(5)),
    ("Content-Length: 5\r\nContent-Length: 5\r\n", .length(5)),
    ("content-length:  9223372036854775807 \r\n", .length(Int.max)),
    ("Transfer-Encoding: chunked\r\n", .chunked),
    ("Transfer-Encoding: CHUNKED\r\n", .chunked),
    ("transfer-encoding: \t Chunked \r\n", .chunked),
  ])
  func accepted(fields: String, framing: BodyFraming) {
    let head = request("POST /p HTTP/1.1\r\nHost: a\r\n\(fields)\r\n")
    #expect(head?.framing == framing)
  }

  @Test func contentLengthInHTTP10() {
    #expect(request("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n")?.framing == .length(3))
  }
}
