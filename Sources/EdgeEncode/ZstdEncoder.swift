internal import CZstd

/// zstd for response bodies streamed through edge (`encode zstd`), fed piece by piece like
/// `GzipEncoder`: each piece is flushed (ZSTD_e_flush ends the block) so a client can decode everything
/// sent so far and a streamed response is never held back.
///
/// Frames carry a checksum and never need a window above 8 MiB, the most RFC 8878 (and browsers) require
/// a decoder to hold.
///
/// One per response, on its connection's loop.
public final class ZstdEncoder {
  private let context: OpaquePointer
  private var ended = false
  /// Set when zstd failed mid-stream (out of memory); what was emitted is then a truncated frame.
  private var failed = false

  /// nil when zstd cannot be set up (out of memory). Levels outside zstd's range are clamped to it.
  public init?(level: Int32 = 3) {
    guard let context = ZSTD_createCCtx() else { return nil }
    self.context = context
    // Only lower the level's own window, never raise it: levels up to 19 already stay at 8 MiB or less,
    // and every streaming encoder reserves a buffer the size of its window.
    let windowLog = min(Int32(ZSTD_getCParams(level, 0, 0).windowLog), 23)
    for (parameter, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, 1), (ZSTD_c_windowLog, windowLog)] {
      if ZSTD_isError(ZSTD_CCtx_setParameter(context, parameter, value)) != 0 { return nil }
    }
  }

  deinit { ZSTD_freeCCtx(context) }

  /// Compresses `input` and hands the output to `emit` (each piece valid only during the call).
  public func encode(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void) {
    guard !ended, input.count > 0 else { return }
    run(input, ZSTD_e_flush, emit)
  }

  /// Ends the frame (last block and checksum) and hands the last output to `emit`.
  public func finish(_ emit: (UnsafeRawBufferPointer) -> Void) {
    guard !ended else { return }
    ended = true
    run(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end, emit)
  }

  private func run(_ input: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective, _ emit: (UnsafeRawBufferPointer) -> Void) {
    var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
    withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { buffer in
      // With flush or end, zstd has consumed all input once it reports nothing left to write.
      var remaining = 1
      while remaining != 0 {
        var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        remaining = ZSTD_compressStream2(context, &output, &source, directive)
        if output.pos > 0 { emit(UnsafeRawBufferPointer(rebasing: buffer[0..<output.pos])) }
        if ZSTD_isError(remaining) != 0 {
          // Only allocation failures get here; the stream cannot continue, so nothing more is written.
          ended = true
          failed = true
          return
        }
      }
    }
  }

  /// Compresses a whole body at once. One ZSTD_e_end call over all of it lets zstd record the size in
  /// the frame header and shrink the window to fit, so a small body costs the client little memory.
  public static func compress(_ body: [UInt8], level: Int32 = 3) -> [UInt8]? {
    guard let encoder = ZstdEncoder(level: level) else { return nil }
    var out: [UInt8] = []
    encoder.ended = true
    body.withUnsafeBytes { encoder.run($0, ZSTD_e_end) { out.append(contentsOf: $0) } }
    return encoder.failed ? nil : out
  }
}
