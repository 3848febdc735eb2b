import Testing

@testable import EdgeACME

/// Inputs fuzz-acme (Tests/fuzz) found in what a CA's HTTP response can hold, fed again after the fix.
@Suite struct ResponseReaderFuzzTests {
  /// A chunk size near Int.max after some body: `body.count + size` overflowed and trapped (a crash of the
  /// whole node, triggered by any CA or anything in its path). Now a "too large" transport error.
  @Test(arguments: ["7fffffffffffffff", "7ffffffffffffffe", "1000001"])
  func hugeChunkAfterBodyIsRefused(size: String) {
    let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n\(size)\r\n"
    var reader = HTTPResponseReader(stream: BytesStream(Array(text.utf8)), deadline: .now + .seconds(5))
    #expect(throws: ACMEError.self) { try reader.read(requestMethod: "GET") }
  }

  @Test func chunkedBodyUnderTheLimitIsRead() throws {
    let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n2\r\nbc\r\n0\r\n\r\n"
    var reader = HTTPResponseReader(stream: BytesStream(Array(text.utf8)), deadline: .now + .seconds(5))
    #expect(try reader.read(requestMethod: "GET").0.body == Array("abc".utf8))
  }
}

/// A stream that hands out fixed bytes, then ends.
final class BytesStream: ByteStream {
  private var bytes: [UInt8]
  init(_ bytes: [UInt8]) { self.bytes = bytes }
  func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws {}
  func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws -> Bool {
    guard !bytes.isEmpty else { return false }
    buffer += bytes
    bytes = []
    return true
  }
  var isStale: Bool { false }
  func close() {}
}
