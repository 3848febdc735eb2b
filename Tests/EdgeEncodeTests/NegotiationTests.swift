import EdgeEncode
import Testing

@Suite struct NegotiationTests {
  @Test("Accept-Encoding picks the client's highest q among the offered codings, ties going to the server's order",
    arguments: [
      // (Accept-Encoding, expected with offered [zstd, gzip], expected with offered [gzip, zstd])
      ("gzip, deflate, br, zstd", ContentCoding.zstd, ContentCoding.gzip),  // Chrome: a tie
      ("gzip, deflate, br", .gzip, .gzip),
      ("gzip;q=0.5, zstd", .zstd, .zstd),
      ("zstd;q=0.2, gzip;q=0.9", .gzip, .gzip),
      ("*", .zstd, .gzip),
      ("*;q=0.5, gzip", .gzip, .gzip),
      ("gzip;q=0, *", .zstd, .zstd),  // named with q=0: refused even though * accepts anything
      ("zstd;q=0, *;q=0.1", .gzip, .gzip),
      ("x-gzip", .gzip, .gzip),
      ("X-GZIP;Q=1.0", .gzip, .gzip),
      ("ZSTD", .zstd, .zstd),
      ("  gzip ;  q=0.8 ,\tzstd ; q=0.800 ", .zstd, .gzip),  // whitespace; 0.8 == 0.800, a tie
      ("zstd;q=0.001, gzip;q=0", .zstd, .zstd),
      ("zstd;level=9;q=0.7, gzip;q=0.6", .zstd, .zstd),  // unknown parameters ignored
      ("gzip;q=abc, zstd;q=0.1", .zstd, .zstd),  // malformed q: the element is ignored
      ("gzip;q=1.5, zstd;q=0.1", .zstd, .zstd),  // above 1
      ("gzip;q=0.5555, zstd;q=0.1", .zstd, .zstd),  // four decimals
      ("gzip;q=-1, zstd;q=0.1", .zstd, .zstd),
      ("gzip;q, zstd;q=0.1", .zstd, .zstd),  // q without a value
      (",,gzip,,", .gzip, .gzip),
      ("gzip, gzip;q=0", .gzip, .gzip),  // named twice: the first counts
    ])
  func preferred(_ header: String, _ serverPrefersZstd: ContentCoding, _ serverPrefersGzip: ContentCoding) {
    #expect(Compressible.preferredCoding(header, offered: [.zstd, .gzip]) == serverPrefersZstd)
    #expect(Compressible.preferredCoding(header, offered: [.gzip, .zstd]) == serverPrefersGzip)
  }

  @Test("nothing acceptable means the body goes as it is", arguments: [
    nil, "", "identity", "br, deflate", "gzip;q=0, zstd;q=0", "*;q=0", "identity;q=0", "garbage;;;==",
    "gzip;q=0, zstd;q=0, *", "gzip;q=0.", "zstd;q=1.001", "gzipzstd", "gzip zstd", "x-zstd",
  ] as [String?])
  func nothingAcceptable(_ header: String?) {
    #expect(Compressible.preferredCoding(header, offered: [.zstd, .gzip]) == nil)
  }

  @Test("only offered codings are chosen")
  func onlyOffered() {
    #expect(Compressible.preferredCoding("zstd, gzip;q=0.1", offered: [.gzip]) == .gzip)
    #expect(Compressible.preferredCoding("zstd", offered: [.gzip]) == nil)
    #expect(Compressible.preferredCoding("*", offered: []) == nil)
    #expect(Compressible.preferredCoding("gzip;q=1, zstd;q=1", offered: [.zstd]) == .zstd)
  }

  @Test("acceptsGzip agrees with negotiation", arguments: [
    ("gzip", true), ("x-gzip", true), ("*", true), ("gzip;q=0.1", true), ("deflate, gzip", true),
    (nil, false), ("", false), ("gzip;q=0", false), ("*;q=0", false), ("br", false), ("zstd", false),
    ("gzip;q=0, *", false), ("identity", false),
  ] as [(String?, Bool)])
  func acceptsGzip(_ header: String?, _ expected: Bool) {
    #expect(Compressible.acceptsGzip(header) == expected)
  }

  @Test("the coding's raw value is its Content-Encoding token")
  func tokens() {
    #expect(ContentCoding.zstd.rawValue == "zstd")
    #expect(ContentCoding.gzip.rawValue == "gzip")
  }
}
