import CZstd
import EdgeEncode
import Foundation
import Testing

@Suite struct ZstdTests {
  @Test("a body streamed piece by piece decodes after every piece, and the finished frame verifies")
  func streamedPrefixesDecode() throws {
    let encoder = try #require(ZstdEncoder())
    let decoder = try Decompressor()
    var sent: [UInt8] = []
    for piece in 0..<40 {
      let bytes = Array("event \(piece): \(String(repeating: "data ", count: piece * 7))\n".utf8)
      sent += bytes
      var output: [UInt8] = []
      bytes.withUnsafeBytes { encoder.encode($0) { output += $0 } }
      #expect(!output.isEmpty, "piece \(piece) was held back")
      #expect(try decoder.feed(output) == sent.count, "piece \(piece)")
      #expect(decoder.decoded == sent)
    }
    var trailer: [UInt8] = []
    encoder.finish { trailer += $0 }
    #expect(try decoder.feed(trailer) == sent.count)
    #expect(decoder.frameComplete)
    // finish and encode after the end add nothing.
    encoder.finish { _ in Issue.record("second finish emitted") }
    Array("late".utf8).withUnsafeBytes { encoder.encode($0) { _ in Issue.record("encode after finish emitted") } }
  }

  @Test("an empty body is a complete, valid frame")
  func emptyBody() throws {
    let compressed = try #require(ZstdEncoder.compress([]))
    #expect(try Decompressor.decode(compressed) == [])
    let encoder = try #require(ZstdEncoder())
    var streamed: [UInt8] = []
    encoder.finish { streamed += $0 }
    #expect(try Decompressor.decode(streamed) == [])
  }

  @Test("1 MiB round-trips, whole and in 64 KiB pieces")
  func oneMebibyte() throws {
    let body = Self.mixedBody(count: 1 << 20)
    let whole = try #require(ZstdEncoder.compress(body))
    #expect(whole.count < body.count / 2)
    // Compressed in one call, the frame records its size.
    #expect(whole.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) } == UInt64(body.count))
    #expect(try Decompressor.decode(whole) == body)

    let encoder = try #require(ZstdEncoder())
    var streamed: [UInt8] = []
    for start in stride(from: 0, to: body.count, by: 64 * 1024) {
      body[start..<min(start + 64 * 1024, body.count)].withUnsafeBytes { encoder.encode($0) { streamed += $0 } }
    }
    encoder.finish { streamed += $0 }
    #expect(try Decompressor.decode(streamed) == body)
  }

  @Test("no level needs a window above 8 MiB to decode", arguments: [1, 3, 19, 22] as [Int32])
  func windowFitsBrowsers(_ level: Int32) throws {
    let body = Self.mixedBody(count: 3 << 20)
    let encoder = try #require(ZstdEncoder(level: level))
    var streamed: [UInt8] = []
    body.withUnsafeBytes { encoder.encode($0) { streamed += $0 } }
    encoder.finish { streamed += $0 }
    #expect(try Decompressor.decode(streamed, windowLogMax: 23) == body)
  }

  @Test("the zstd command-line tool accepts the output, checksum included")
  func zstdToolDecodes() throws {
    let body = Self.mixedBody(count: 200_000)
    let encoder = try #require(ZstdEncoder())
    var streamed: [UInt8] = []
    for start in stride(from: 0, to: body.count, by: 10_000) {
      body[start..<start + 10_000].withUnsafeBytes { encoder.encode($0) { streamed += $0 } }
    }
    encoder.finish { streamed += $0 }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("edge-zstd-\(UUID().uuidString).zst")
    try Data(streamed).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    #expect(try runZstd(["-d", "-c", file.path]) == body)
  }

  @Test("both encoders work through ResponseEncoder")
  func throughProtocol() throws {
    let body = Array(String(repeating: "hello edge ", count: 500).utf8)
    let zstd = try #require(Compressible.makeEncoder(.zstd))
    let gzip = try #require(Compressible.makeEncoder(.gzip))
    #expect(zstd is ZstdEncoder && gzip is GzipEncoder)
    var zstdOut: [UInt8] = [], gzipOut: [UInt8] = []
    body.withUnsafeBytes { bytes in
      zstd.encode(bytes) { zstdOut += $0 }
      gzip.encode(bytes) { gzipOut += $0 }
    }
    zstd.finish { zstdOut += $0 }
    gzip.finish { gzipOut += $0 }
    #expect(try Decompressor.decode(zstdOut) == body)
    #expect(Array(gzipOut.prefix(2)) == [0x1f, 0x8b])
    #expect(gzipOut == GzipEncoder.compress(body))
  }

  /// Text-like bytes that compress, with enough noise that zstd has real work.
  static func mixedBody(count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    let words = ["edge ", "proxy ", "zstd ", "{\"id\": ", "42, ", "\"name\": \"x\"}\n"].map { Array($0.utf8) }
    var body: [UInt8] = []
    body.reserveCapacity(count + 16)
    while body.count < count {
      body += words[Int(generator.next() % UInt64(words.count))]
      if generator.next() % 8 == 0 { body.append(UInt8(truncatingIfNeeded: generator.next())) }
    }
    return Array(body.prefix(count))
  }
}

/// libzstd's streaming decoder, fed what the encoder emitted so far.
final class Decompressor {
  private let context: OpaquePointer
  private(set) var decoded: [UInt8] = []
  /// Whether the last feed ended exactly at the end of a frame (checksum verified).
  private(set) var frameComplete = false

  init(windowLogMax: Int32? = nil) throws {
    guard let context = ZSTD_createDCtx() else { throw DecodeError("ZSTD_createDCtx failed") }
    self.context = context
    if let windowLogMax {
      try check(ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, windowLogMax))
    }
  }

  deinit { ZSTD_freeDCtx(context) }

  /// Decodes `bytes` completely and returns the total decoded so far.
  func feed(_ bytes: [UInt8]) throws -> Int {
    try bytes.withUnsafeBytes { bytes in
      var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
      var buffer = [UInt8](repeating: 0, count: 64 * 1024)
      repeat {
        let consumedBefore = input.pos
        let (remaining, produced) = try buffer.withUnsafeMutableBytes { out in
          var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
          let remaining = ZSTD_decompressStream(context, &output, &input)
          try check(remaining)
          return (remaining, output.pos)
        }
        decoded += buffer[0..<produced]
        // 0 marks the end of a frame; a later call that neither reads nor writes leaves that standing.
        if remaining == 0 {
          frameComplete = true
        } else if produced > 0 || input.pos > consumedBefore {
          frameComplete = false
        }
        if produced < buffer.count && input.pos == input.size { break }
      } while true
    }
    return decoded.count
  }

  static func decode(_ frame: [UInt8], windowLogMax: Int32? = nil) throws -> [UInt8] {
    let decoder = try Decompressor(windowLogMax: windowLogMax)
    _ = try decoder.feed(frame)
    guard decoder.frameComplete else { throw DecodeError("the frame is incomplete") }
    return decoder.decoded
  }

  private func check(_ code: Int) throws {
    if ZSTD_isError(code) != 0 { throw DecodeError(String(cString: ZSTD_getErrorName(code))) }
  }
}

struct DecodeError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Runs the `zstd` CLI and returns its stdout; a missing binary fails with an install hint.
func runZstd(_ arguments: [String]) throws -> [UInt8] {
  guard let path = ["/usr/bin/zstd", "/usr/local/bin/zstd", "/bin/zstd"].first(where: FileManager.default.isExecutableFile) else {
    throw DecodeError("the zstd CLI is needed by this test: apt-get install zstd")
  }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  process.arguments = arguments
  let stdout = Pipe(), stderr = Pipe()
  process.standardOutput = stdout
  process.standardError = stderr
  try process.run()
  let output = stdout.fileHandleForReading.readDataToEndOfFile()
  let errors = stderr.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else {
    throw DecodeError("zstd \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
  }
  return Array(output)
}
