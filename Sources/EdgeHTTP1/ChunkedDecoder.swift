/// Decodes a chunked body (RFC 9112 §7.1) as it streams in, split at any byte: data is passed on as
/// slices of the input, never copied; chunk extensions are checked and skipped; trailer fields are
/// kept in `trailers`.
///
/// Strict: a size is 1 to 16 hex digits within `Int.max`; whitespace after it only before a `;`;
/// every line ends in CRLF; chunk data is followed by CRLF. Errors carry status 400.
public struct ChunkedDecoder: Sendable {
  private enum State: Sendable {
    case size, spaceAfterSize, chunkExtension, sizeLF, data, dataCR, dataLF, trailerLine, trailerLF, finished
  }

  private let maxChunkExtensionBytes: Int
  private let maxTrailerBytes: Int
  private var state = State.size
  private var sizeDigits = 0
  /// The size being read, then the data bytes of the chunk still to come.
  private var remaining = 0
  private var extensionBytes = 0
  private var trailerBytes = 0
  private var trailerLine: [UInt8] = []
  /// The trailer fields; complete once `decode` has reported the body finished.
  public private(set) var trailers = HTTPHeaders()

  public init(maxChunkExtensionBytes: Int = 1024, maxTrailerBytes: Int = 8192) {
    self.maxChunkExtensionBytes = maxChunkExtensionBytes
    self.maxTrailerBytes = maxTrailerBytes
  }

  /// Whether the last chunk and the trailer section have been read.
  public var isFinished: Bool { state == .finished }

  /// Decodes as much of `input` as possible, calling `data` with the body bytes in it (slices of
  /// `input`). Returns how many bytes of `input` were consumed — all of them unless the body ended
  /// inside — and whether the body ended (after the last chunk and the trailers).
  public mutating func decode(
    _ input: UnsafeRawBufferPointer, data: (UnsafeRawBufferPointer) -> Void
  ) throws(HTTP1Error) -> (consumed: Int, finished: Bool) {
    var i = 0
    let count = input.count
    while i < count {
      if state == .data {
        let take = min(remaining, count - i)
        data(input.slice(i..<i + take))
        remaining -= take
        i += take
        if remaining == 0 { state = .dataCR }
        continue
      }
      if state == .finished { break }
      try step(input[i])
      i += 1
    }
    return (i, state == .finished)
  }

  /// Advances over one byte of framing (anything but chunk data).
  private mutating func step(_ byte: UInt8) throws(HTTP1Error) {
    switch state {
    case .size:
      if let digit = Self.hexValue(byte) {
        guard sizeDigits < 16, remaining <= Int.max >> 4 else { throw HTTP1Error(.chunkSizeOverflow) }
        remaining = remaining << 4 | digit
        sizeDigits += 1
      } else if sizeDigits == 0 {
        throw HTTP1Error(byte == ASCII.cr || byte == ASCII.semicolon ? .emptyChunkSize : .invalidChunkSize)
      } else {
        try afterSize(byte)
      }
    case .spaceAfterSize:
      if ASCII.isOWS(byte) { return }
      guard byte == ASCII.semicolon else { throw HTTP1Error(byte == ASCII.lf ? .bareLF : .invalidChunkSize) }
      state = .chunkExtension
    case .chunkExtension:
      if byte == ASCII.cr { return state = .sizeLF }
      if byte == ASCII.lf { throw HTTP1Error(.bareLF) }
      guard ASCII.isFieldValueByte(byte) else { throw HTTP1Error(.invalidChunkExtension) }
      extensionBytes += 1
      if extensionBytes > maxChunkExtensionBytes { throw HTTP1Error(.chunkExtensionTooLong) }
    case .sizeLF:
      guard byte == ASCII.lf else { throw HTTP1Error(.bareCR) }
      state = remaining == 0 ? .trailerLine : .data
    case .dataCR:
      guard byte == ASCII.cr else { throw HTTP1Error(byte == ASCII.lf ? .bareLF : .missingChunkDataCRLF) }
      state = .dataLF
    case .dataLF:
      guard byte == ASCII.lf else { throw HTTP1Error(.missingChunkDataCRLF) }
      state = .size
      sizeDigits = 0
      extensionBytes = 0
    case .trailerLine:
      try countTrailerByte()
      if byte == ASCII.cr { return state = .trailerLF }
      if byte == ASCII.lf { throw HTTP1Error(.bareLF) }
      trailerLine.append(byte)
    case .trailerLF:
      try countTrailerByte()
      guard byte == ASCII.lf else { throw HTTP1Error(.bareCR) }
      if trailerLine.isEmpty { return state = .finished }
      try addTrailer()
      state = .trailerLine
    case .data, .finished:
      break
    }
  }

  /// The byte right after the size digits: CRLF, an extension, or whitespace before one.
  private mutating func afterSize(_ byte: UInt8) throws(HTTP1Error) {
    switch byte {
    case ASCII.cr: state = .sizeLF
    case ASCII.semicolon: state = .chunkExtension
    case ASCII.space, ASCII.tab: state = .spaceAfterSize
    case ASCII.lf: throw HTTP1Error(.bareLF)
    default: throw HTTP1Error(.invalidChunkSize)
    }
  }

  private mutating func countTrailerByte() throws(HTTP1Error) {
    trailerBytes += 1
    if trailerBytes > maxTrailerBytes { throw HTTP1Error(.trailerTooLarge) }
  }

  private mutating func addTrailer() throws(HTTP1Error) {
    let line = trailerLine
    trailerLine.removeAll(keepingCapacity: true)
    let valid = line.withUnsafeBytes { raw in
      guard let (name, value) = try? FieldLine.parse(raw, 0..<raw.count) else { return false }
      trailers.append(name: raw.slice(name), value: raw.slice(value))
      return true
    }
    if !valid { throw HTTP1Error(.invalidTrailer) }
  }

  @inline(__always)
  private static func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 0x30...0x39: Int(byte &- 0x30)
    case 0x41...0x46: Int(byte &- 0x37)
    case 0x61...0x66: Int(byte &- 0x57)
    default: nil
    }
  }
}
