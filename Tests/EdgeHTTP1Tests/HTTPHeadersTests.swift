import Testing

@testable import EdgeHTTP1

@Suite struct HTTPHeadersTests {
  @Test func lookupIsCaseInsensitiveAndOrdered() {
    let headers: HTTPHeaders = ["Accept": "a", "X-Tag": "1", "x-tag": "2", "X-TAG": "3"]
    #expect(headers.count == 4)
    #expect(headers["x-TAG"] == "1")
    #expect(headers.values("X-Tag") == ["1", "2", "3"])
    #expect(headers.contains("ACCEPT"))
    #expect(!headers.contains("Accep"))
    #expect(headers["missing"] == nil)
    #expect(headers.values("missing").isEmpty)
  }

  @Test func iterationKeepsNamesAsGiven() {
    let headers = HTTPHeaders([("Content-Type", "text/html"), ("X-A", "b")])
    let pairs = headers.map { "\($0.name)=\($0.value)" }
    #expect(pairs == ["Content-Type=text/html", "X-A=b"])
  }

  @Test func removeByNameCaseInsensitively() {
    var headers: HTTPHeaders = ["A": "1", "Cookie": "x", "B": "2", "COOKIE": "y"]
    headers.remove("cookie")
    #expect(headers.map(\.name) == ["A", "B"])
    headers.remove("nothing")
    #expect(headers.count == 2)
  }

  @Test func setReplacesAllInPlaceOfTheFirst() {
    var headers: HTTPHeaders = ["A": "1", "X": "old1", "B": "2", "x": "old2"]
    headers.set("X", "new")
    #expect(headers.map(\.name) == ["A", "X", "B"])
    #expect(headers.values("x") == ["new"])
    headers.set("C", "3")
    #expect(headers.map(\.name) == ["A", "X", "B", "C"])
  }

  @Test func addNeutralisesInjection() {
    var headers = HTTPHeaders()
    headers.add("X-Evil\r\nInjected", "a\r\nSet-Cookie: x\u{0}")
    headers.add("X-Space", "  padded \t")
    var out: [UInt8] = []
    headers.write(into: &out)
    #expect(String(decoding: out, as: UTF8.self) == "X-Evil--Injected: a  Set-Cookie: x \r\nX-Space: padded\r\n")
  }

  @Test(arguments: [
    ("Connection", "keep-alive, Upgrade", "upgrade", true),
    ("Connection", "keep-alive,Upgrade", "UPGRADE", true),
    ("Connection", "close", "close", true),
    ("Connection", "closed", "close", false),
    ("Connection", "not-close, x", "close", false),
    ("Connection", " , close ,", "close", true),
    ("Other", "close", "close", false),
  ])
  func containsToken(name: String, value: String, token: String, expected: Bool) {
    let headers = HTTPHeaders([(name, value), ("Unrelated", "upgrade")])
    #expect(headers.containsToken("connection", token) == expected)
  }

  @Test func containsTokenAcrossSeveralFields() {
    let headers: HTTPHeaders = ["Connection": "keep-alive", "connection": "Upgrade"]
    #expect(headers.containsToken("Connection", "upgrade"))
  }

  @Test func removeAllWhereSeesRawBytes() {
    var headers: HTTPHeaders = ["Keep-Alive": "timeout=5", "X-A": "1", "X-Secret": "s", "X-B": "2"]
    headers.removeAll { name, value in
      HTTPHeaders.name(name, equals: "keep-alive") || value.elementsEqual("s".utf8)
    }
    #expect(headers.map(\.name) == ["X-A", "X-B"])
  }

  @Test func removeHopByHopFieldsAndThoseConnectionNames() {
    var headers: HTTPHeaders = [
      "Host": "a", "Connection": "keep-alive, X-Private", "Keep-Alive": "timeout=5", "x-private": "p",
      "Transfer-Encoding": "chunked", "TE": "trailers", "Upgrade": "h2c", "Proxy-Connection": "x",
      "Trailer": "X", "Accept": "*/*",
    ]
    headers.removeHopByHopFields()
    #expect(headers.map(\.name) == ["Host", "Accept"])
  }

  @Test func writeProducesWireFormat() {
    let headers: HTTPHeaders = ["Host": "example.com", "Empty": ""]
    var out = Array("prefix|".utf8)
    headers.write(into: &out)
    #expect(String(decoding: out, as: UTF8.self) == "prefix|Host: example.com\r\nEmpty: \r\n")
  }

  @Test func manyRemovalsCompactStorage() {
    var headers = HTTPHeaders()
    for round in 0..<200 {
      headers.set("X-Rotating", String(repeating: "v", count: 50) + "\(round)")
      headers.add("X-Temp", "t")
      headers.remove("x-temp")
    }
    #expect(headers.count == 1)
    #expect(headers["x-rotating"]?.hasSuffix("199") == true)
    #expect(headers.storage.count < 2000)
  }

  @Test func equalityIsFieldByField() {
    var a: HTTPHeaders = ["A": "1", "B": "2"]
    let b: HTTPHeaders = ["A": "1", "B": "2"]
    #expect(a == b)
    a.add("Junk", "x")
    a.remove("junk")
    #expect(a == b)  // unused storage does not matter
    #expect(a != ["B": "2", "A": "1"])
    #expect(a != ["a": "1", "B": "2"])
  }
}
