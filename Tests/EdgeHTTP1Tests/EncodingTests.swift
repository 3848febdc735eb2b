import Testing

@testable import EdgeHTTP1

@Suite struct EncodingTests {
  @Test func requestRoundTrip() {
    let original = request(
      "POST /submit?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nX-Multi: a\r\nx-multi: b\r\n\r\n")
    guard let original else {
      Issue.record("did not parse")
      return
    }
    var out: [UInt8] = []
    original.encode(into: &out)
    #expect(String(decoding: out, as: UTF8.self).hasPrefix("POST /submit?x=1 HTTP/1.1\r\nHost: example.com\r\n"))
    var parser = RequestHeadParser()
    guard case .complete(let again, let consumed) = out.withUnsafeBytes({ parser.parse($0) }) else {
      Issue.record("encoded head did not parse")
      return
    }
    #expect(again == original)
    #expect(consumed == out.count)
  }

  @Test(arguments: [
    "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "PUT /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
  ])
  func requestRoundTrips(text: String) {
    guard let head = request(text) else {
      Issue.record("did not parse")
      return
    }
    var out: [UInt8] = []
    head.encode(into: &out)
    #expect(String(decoding: out, as: UTF8.self) == text)
  }

  @Test func absoluteFormIsSentAsOriginForm() {
    guard var head = request("GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n") else {
      Issue.record("did not parse")
      return
    }
    var out: [UInt8] = []
    head.encode(into: &out)
    #expect(String(decoding: out, as: UTF8.self) == "GET /a?b HTTP/1.1\r\nHost: example.com\r\n\r\n")
    head.path = "/rewritten"
    out.removeAll()
    head.encode(into: &out)
    #expect(String(decoding: out, as: UTF8.self).hasPrefix("GET /rewritten HTTP/1.1\r\n"))
  }

  @Test func http10RequestIsSentAsHTTP11() {
    guard let head = request("GET /x HTTP/1.0\r\nUser-Agent: old\r\n\r\n") else {
      Issue.record("did not parse")
      return
    }
    var out: [UInt8] = []
    head.encode(into: &out)
    #expect(String(decoding: out, as: UTF8.self) == "GET /x HTTP/1.1\r\nUser-Agent: old\r\n\r\n")
  }

  @Test(arguments: [
    "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: edge\r\n\r\n",
    "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n",
  ])
  func responseRoundTrips(text: String) {
    guard let head = response(text) else {
      Issue.record("did not parse")
      return
    }
    var out: [UInt8] = []
    head.encode(into: &out)
    #expect(String(decoding: out, as: UTF8.self) == text)
    #expect(response(String(decoding: out, as: UTF8.self)) == head)
  }

  @Test func http10ResponseIsSentAsHTTP11() {
    let head = ResponseHead(version: .http1_0, status: 503, headers: ["Retry-After": "5"])
    var out: [UInt8] = []
    head.encode(into: &out)
    #expect(String(decoding: out, as: UTF8.self) == "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\n")
  }

  @Test(arguments: [(0, "0"), (1, "1"), (10, "a"), (255, "ff"), (4096, "1000"), (Int.max, "7fffffffffffffff")])
  func chunkHeader(size: Int, hex: String) {
    var out: [UInt8] = []
    ChunkedEncoder.writeChunkHeader(size: size, into: &out)
    #expect(String(decoding: out, as: UTF8.self) == hex + "\r\n")
  }

  @Test func encodedChunksDecode() throws {
    var wire: [UInt8] = []
    let pieces = [Array("hello ".utf8), Array(repeating: UInt8(ascii: "x"), count: 300), Array("!".utf8)]
    for piece in pieces {
      ChunkedEncoder.writeChunkHeader(size: piece.count, into: &wire)
      wire += piece + ChunkedEncoder.chunkEnd
    }
    wire += ChunkedEncoder.lastChunk
    #expect(ChunkedEncoder.lastChunk == Array("0\r\n\r\n".utf8))
    let (body, _, consumed) = try decodeChunked(wire, cuts: [])
    #expect(body == pieces.flatMap { $0 })
    #expect(consumed == wire.count)
  }

  @Test(arguments: [
    (100, "Continue"), (101, "Switching Protocols"), (200, "OK"), (201, "Created"), (204, "No Content"),
    (206, "Partial Content"), (301, "Moved Permanently"), (302, "Found"), (304, "Not Modified"),
    (307, "Temporary Redirect"), (308, "Permanent Redirect"), (400, "Bad Request"), (401, "Unauthorized"),
    (403, "Forbidden"), (404, "Not Found"), (405, "Method Not Allowed"), (408, "Request Timeout"),
    (411, "Length Required"), (413, "Content Too Large"), (414, "URI Too Long"),
    (415, "Unsupported Media Type"), (417, "Expectation Failed"), (421, "Misdirected Request"),
    (429, "Too Many Requests"), (431, "Request Header Fields Too Large"), (500, "Internal Server Error"),
    (501, "Not Implemented"), (502, "Bad Gateway"), (503, "Service Unavailable"), (504, "Gateway Timeout"),
    (505, "HTTP Version Not Supported"), (799, "Unknown"),
  ])
  func reasonPhrases(status: Int, reason: String) {
    #expect(StatusText.reason(status) == reason)
  }

  @Test func simpleResponseIsComplete() {
    let bytes = StatusText.simpleResponse(
      status: 404, body: "not found\n", close: true, extraHeaders: [("X-Why", "route")])
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(
      text == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\n"
        + "Connection: close\r\nX-Why: route\r\n\r\nnot found\n")
    let head = response(text)
    #expect(head?.framing == .length(10))
    #expect(head?.keepAlive == false)
  }

  @Test func simpleResponseWithoutClose() {
    let text = String(decoding: StatusText.simpleResponse(status: 200, body: "", close: false), as: UTF8.self)
    #expect(text == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\n\r\n")
  }
}
