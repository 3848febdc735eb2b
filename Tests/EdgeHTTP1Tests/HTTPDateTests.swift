import EdgeHTTP1
import Testing

@Suite struct HTTPDateTests {
  @Test("IMF-fixdate, as in RFC 9110's example", arguments: [
    (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"), (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
    (1_795_339_177, "Sun, 22 Nov 2026 09:19:37 GMT"), (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
  ])
  func formats(seconds: Int, text: String) {
    #expect(HTTPDate.format(seconds) == text)
  }

  @Test func cacheGivesAFieldLine() {
    let line = String(decoding: DateFieldCache().field, as: UTF8.self)
    #expect(line.hasPrefix("Date: ") && line.hasSuffix(" GMT\r\n") && line.utf8.count == 37)
  }
}
