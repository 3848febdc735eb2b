internal import CZlib
import Foundation

/// gzip for response bodies streamed through edge (`encode gzip`): zlib's deflate with a gzip header,
/// fed piece by piece. Each piece is flushed (Z_SYNC_FLUSH) so a client can decode everything sent so
/// far: a streamed or long-polled response is never held back waiting for more input.
///
/// One per response, on its connection's loop.
public final class GzipEncoder {
  private var stream = z_stream()
  private var ended = false

  /// nil when zlib cannot be set up (out of memory).
  public init?(level: Int32 = 6) {
    // windowBits 15 + 16: a gzip wrapper instead of zlib's. deflateInit2 is a macro; its function takes
    // the library version and the struct size.
    let status = deflateInit2_(
      &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { return nil }
  }

  deinit { deflateEnd(&stream) }

  /// Compresses `input` and hands the output to `emit` (each piece valid only during the call).
  public func encode(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void) {
    guard !ended, input.count > 0 else { return }
    run(input, flush: Z_SYNC_FLUSH, emit)
  }

  /// Ends the stream (the gzip trailer) and hands the last output to `emit`.
  public func finish(_ emit: (UnsafeRawBufferPointer) -> Void) {
    guard !ended else { return }
    ended = true
    run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, emit)
  }

  private func run(_ input: UnsafeRawBufferPointer, flush: Int32, _ emit: (UnsafeRawBufferPointer) -> Void) {
    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
    stream.avail_in = UInt32(input.count)
    withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { buffer in
      repeat {
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(buffer.count)
        _ = deflate(&stream, flush)
        let produced = buffer.count - Int(stream.avail_out)
        if produced > 0 { emit(UnsafeRawBufferPointer(rebasing: buffer[0..<produced])) }
      } while stream.avail_out == 0
    }
  }

  /// Compresses a whole body at once.
  public static func compress(_ body: [UInt8], level: Int32 = 6) -> [UInt8]? {
    guard let encoder = GzipEncoder(level: level) else { return nil }
    var out: [UInt8] = []
    body.withUnsafeBytes { encoder.encode($0) { out.append(contentsOf: $0) } }
    encoder.finish { out.append(contentsOf: $0) }
    return out
  }
}

/// Which responses are worth compressing: text-like types (HTML, CSS, JS, JSON, XML, SVG, plain text,
/// WebAssembly, event streams), not images, video, archives or fonts already compressed.
public enum Compressible {
  public static func contentType(_ value: String?) -> Bool {
    guard let value else { return false }
    let type = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    if type.hasPrefix("text/") { return true }
    return [
      "application/json", "application/javascript", "application/x-javascript", "application/xml",
      "application/xhtml+xml", "application/rss+xml", "application/atom+xml", "application/ld+json",
      "application/manifest+json", "application/wasm", "image/svg+xml", "application/graphql-response+json",
    ].contains(type) || type.hasSuffix("+json") || type.hasSuffix("+xml")
  }

  /// Whether an `Accept-Encoding` value accepts gzip: named with a q above 0, or unnamed and covered by
  /// `*` with a q above 0.
  public static func acceptsGzip(_ acceptEncoding: String?) -> Bool {
    preferredCoding(acceptEncoding, offered: [.gzip]) == .gzip
  }
}
