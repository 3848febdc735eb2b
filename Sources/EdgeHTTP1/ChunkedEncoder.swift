/// The pieces of the chunked transfer coding (RFC 9112 §7.1) for sending a body in chunks:
/// for each chunk, `writeChunkHeader`, the data, `chunkEnd`; at the end, `lastChunk`.
public enum ChunkedEncoder {
  /// Appends `size` in hexadecimal and CRLF. A size of 0 would end the body: send data chunks only.
  public static func writeChunkHeader(size: Int, into out: inout [UInt8]) {
    precondition(size >= 0, "chunk size must not be negative")
    var shift = (Int.bitWidth - size.leadingZeroBitCount + 3) / 4 * 4 - 4
    if shift < 0 { shift = 0 }
    while shift >= 0 {
      let digit = UInt8(truncatingIfNeeded: (size >> shift) & 0xF)
      out.append(digit < 10 ? 0x30 &+ digit : 0x61 &+ digit &- 10)
      shift -= 4
    }
    out.append(ASCII.cr)
    out.append(ASCII.lf)
  }

  /// The CRLF after a chunk's data.
  public static let chunkEnd: [UInt8] = [ASCII.cr, ASCII.lf]

  /// The last chunk and an empty trailer section: `0\r\n\r\n`.
  public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}
