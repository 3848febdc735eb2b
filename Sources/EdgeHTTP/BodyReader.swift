import EdgeHTTP1
import EdgeLoop

/// Reads one message body in whatever framing it came with.
enum BodyReader {
  case none
  case length(LengthDecoder)
  case chunked(ChunkedDecoder)
  /// Ends when the sender closes (responses only).
  case untilClose

  init(_ framing: BodyFraming) {
    switch framing {
    case .none: self = .none
    case .length(let n): self = n == 0 ? .none : .length(LengthDecoder(length: n))
    case .chunked: self = .chunked(ChunkedDecoder())
    case .untilClose: self = .untilClose
    }
  }

  var isNone: Bool {
    if case .none = self { return true }
    return false
  }

  /// Passes body bytes of `input` to `data`; returns what it consumed and whether the body ended.
  mutating func decode(
    _ input: UnsafeRawBufferPointer, data: (UnsafeRawBufferPointer) -> Void
  ) throws(HTTP1Error) -> (consumed: Int, finished: Bool) {
    switch self {
    case .none:
      return (0, true)
    case .length(var decoder):
      let result = try decoder.decode(input, data: data)
      self = .length(decoder)
      return result
    case .chunked(var decoder):
      self = .none  // avoid a copy of the decoder's state while it is mutated
      defer { self = .chunked(decoder) }
      return try decoder.decode(input, data: data)
    case .untilClose:
      if input.count > 0 { data(input) }
      return (input.count, false)
    }
  }
}

extension TCPStream {
  /// Writes one piece of a message body, framed as a chunk when `chunked` (`sizeLine` is reused
  /// scratch space for the chunk-size line). Edge decodes every body it forwards and frames it again,
  /// so what the receiver parses is exactly what edge parsed.
  func writeBodyPiece(_ data: UnsafeRawBufferPointer, chunked: Bool, sizeLine: inout [UInt8]) {
    guard chunked else { return write(data) }
    sizeLine.removeAll(keepingCapacity: true)
    ChunkedEncoder.writeChunkHeader(size: data.count, into: &sizeLine)
    write(sizeLine)
    write(data)
    write(ChunkedEncoder.chunkEnd)
  }
}
