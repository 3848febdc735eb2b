import Testing

@testable import EdgeHTTP1

@Suite struct ChunkedDecoderTests {
  static let body =
    "5;name=value;quoted=\"a b\"\r\nhello\r\n"
    + "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
    + "3 ; ext\r\n123\r\n"
    + "0\r\nX-Checksum: abc\r\nX-Other:  two \r\n\r\n"
  static let expected = Array("helloabcdefghijklmnopqrstuvwxyz123".utf8)

  @Test func wholeBodyWithExtensionsAndTrailers() throws {
    let bytes = Array((Self.body + "NEXT").utf8)
    let (body, trailers, consumed) = try decodeChunked(bytes, cuts: [])
    #expect(body == Self.expected)
    #expect(consumed == bytes.count - 4)
    #expect(trailers["x-checksum"] == "abc")
    #expect(trailers["X-OTHER"] == "two")
    #expect(trailers.count == 2)
  }

  @Test func splitAtEveryBoundary() throws {
    let bytes = Array(Self.body.utf8)
    for cut in 0...bytes.count {
      let (body, trailers, consumed) = try decodeChunked(bytes, cuts: [cut])
      #expect(body == Self.expected, "cut at \(cut)")
      #expect(consumed == bytes.count)
      #expect(trailers.count == 2)
    }
  }

  @Test func oneByteAtATime() throws {
    let bytes = Array(Self.body.utf8)
    let (body, trailers, consumed) = try decodeChunked(bytes, cuts: Array(1..<bytes.count))
    #expect(body == Self.expected)
    #expect(consumed == bytes.count)
    #expect(trailers["x-checksum"] == "abc")
  }

  @Test func randomSplits() throws {
    var generator = SplitMix(state: 42)
    var bytes: [UInt8] = []
    var expected: [UInt8] = []
    for size in [1, 17, 300, 4096, 2, 1000] {
      let chunk = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }  // any byte, CR and LF too
      bytes += Array((String(size, radix: 16) + "\r\n").utf8) + chunk + [13, 10]
      expected += chunk
    }
    bytes += Array("0\r\nT: v\r\n\r\n".utf8)
    let reference = try decodeChunked(bytes, cuts: []).body
    #expect(reference == expected)
    for _ in 0..<50 {
      let cuts = (0..<Int.random(in: 1...40, using: &generator)).map { _ in
        Int.random(in: 0...bytes.count, using: &generator)
      }.sorted()
      let (decoded, _, consumed) = try decodeChunked(bytes, cuts: cuts)
      #expect(decoded == reference)
      #expect(consumed == bytes.count)
    }
  }

  @Test func emptyBody() throws {
    let (body, trailers, consumed) = try decodeChunked(Array("0\r\n\r\n".utf8), cuts: [])
    #expect(body.isEmpty)
    #expect(trailers.isEmpty)
    #expect(consumed == 5)
  }

  @Test func stopsAtTheEndOfTheBody() throws {
    var decoder = ChunkedDecoder()
    let bytes = Array("1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n".utf8)
    let (consumed, finished) = try bytes.withUnsafeBytes { raw in try decoder.decode(raw) { _ in } }
    #expect(finished)
    #expect(consumed == 11)
    #expect(decoder.isFinished)
  }

  @Test func upperAndLowerCaseHexAndLeadingZeros() throws {
    let text = "000a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n"
    let (body, _, _) = try decodeChunked(Array(text.utf8), cuts: [])
    #expect(body.count == 20)
  }

  @Test(arguments: [
    ("not hex", "xyz\r\n", HTTP1Error.Reason.invalidChunkSize),
    ("sign", "-5\r\nhello\r\n", .invalidChunkSize),
    ("0x prefix", "0x5\r\nhello\r\n", .invalidChunkSize),
    ("empty size", "\r\nhello\r\n", .emptyChunkSize),
    ("empty size with extension", ";a=b\r\n", .emptyChunkSize),
    ("17 digits", "00000000000000001\r\n", .chunkSizeOverflow),
    ("above Int.max", "8000000000000000\r\n", .chunkSizeOverflow),
    ("space before CRLF", "5 \r\nhello\r\n", .invalidChunkSize),
    ("bare LF after size", "5\nhello\r\n", .bareLF),
    ("bare CR after size", "5\rhello\r\n", .bareCR),
    ("bare LF after extension", "5;a\nhello\r\n", .bareLF),
    ("data too long", "5\r\nhelloX\r\n", .missingChunkDataCRLF),
    ("LF only after data", "5\r\nhello\n0\r\n\r\n", .bareLF),
    ("CR then junk after data", "5\r\nhello\rX", .missingChunkDataCRLF),
    ("control in extension", "5;a=\u{1}\r\nhello\r\n", .invalidChunkExtension),
    ("NUL in extension", "5;\u{0}\r\nhello\r\n", .invalidChunkExtension),
    ("trailer without colon", "0\r\nJunk\r\n\r\n", .invalidTrailer),
    ("trailer with folding", "0\r\nA: b\r\n c\r\n\r\n", .invalidTrailer),
    ("trailer with bare LF", "0\r\nA: b\n\r\n", .bareLF),
    ("trailer ended by bare CR", "0\r\nA: b\rX", .bareCR),
  ])
  func rejected(name: String, text: String, reason: HTTP1Error.Reason) {
    #expect(throws: HTTP1Error(status: 400, reason: reason), "\(name)") {
      try decodeChunked(Array(text.utf8), cuts: [])
    }
  }

  @Test func extensionTooLong() {
    let text = "5;" + String(repeating: "e", count: 1025) + "\r\nhello\r\n0\r\n\r\n"
    #expect(throws: HTTP1Error(.chunkExtensionTooLong)) { try decodeChunked(Array(text.utf8), cuts: []) }
    let fits = "5;" + String(repeating: "e", count: 1024) + "\r\nhello\r\n0\r\n\r\n"
    #expect(throws: Never.self) { try decodeChunked(Array(fits.utf8), cuts: []) }
  }

  @Test func trailerSectionTooLarge() {
    let text = "0\r\nX-Big: " + String(repeating: "t", count: 9000) + "\r\n\r\n"
    #expect(throws: HTTP1Error(.trailerTooLarge)) { try decodeChunked(Array(text.utf8), cuts: []) }
    var small = ChunkedDecoder(maxChunkExtensionBytes: 4, maxTrailerBytes: 16)
    let bytes = Array("0\r\nA: 1234567890\r\n\r\n".utf8)
    #expect(throws: HTTP1Error(.trailerTooLarge)) {
      try bytes.withUnsafeBytes { raw in try small.decode(raw) { _ in } }
    }
  }

  @Test func maximalSizeIsAccepted() throws {
    var decoder = ChunkedDecoder()
    let bytes = Array("7fffffffffffffff\r\nabc".utf8)
    var received = 0
    let (consumed, finished) = try bytes.withUnsafeBytes { raw in try decoder.decode(raw) { received += $0.count } }
    #expect(consumed == bytes.count)
    #expect(!finished)
    #expect(received == 3)
  }
}

@Suite struct LengthDecoderTests {
  @Test func passesExactlyTheBody() throws {
    var decoder = LengthDecoder(length: 5)
    var received: [UInt8] = []
    let first = Array("hel".utf8)
    let r1 = try first.withUnsafeBytes { raw in try decoder.decode(raw) { received += $0 } }
    #expect(r1.consumed == 3 && !r1.finished)
    let second = Array("loGET".utf8)
    let r2 = try second.withUnsafeBytes { raw in try decoder.decode(raw) { received += $0 } }
    #expect(r2.consumed == 2 && r2.finished)
    #expect(received == Array("hello".utf8))
    #expect(decoder.remaining == 0)
  }

  @Test func zeroLengthIsFinishedAtOnce() throws {
    var decoder = LengthDecoder(length: 0)
    let r = try [UInt8]().withUnsafeBytes { raw in try decoder.decode(raw) { _ in Issue.record("no data expected") } }
    #expect(r.consumed == 0 && r.finished)
  }
}
