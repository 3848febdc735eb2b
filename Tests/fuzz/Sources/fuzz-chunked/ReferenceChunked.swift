/// RFC 9112 §7.1 read a second way, for a differential check: over the whole buffer at once with plain
/// index arithmetic, where `ChunkedDecoder` is a byte-driven state machine. Edge's documented choices are
/// kept: 1 to 16 hex digits up to Int.max, whitespace after the size only before a `;`, an extension of
/// field-value bytes (at most `maxExtension` of them after the `;`), a trailer section (CRLFs included)
/// of at most `maxTrailer` bytes, field lines as in a header.
enum ReferenceChunked {
  struct Result {
    var body: [UInt8] = []
    var consumed = 0
    var finished = false
    var failed = false
  }

  static func decode(_ b: UnsafeRawBufferPointer, maxExtension: Int, maxTrailer: Int) -> Result {
    var result = Result()
    var i = 0
    func fail() -> Result { result.failed = true; return result }
    while true {
      // chunk-size
      let sizeStart = i
      var size = 0
      while i < b.count, let digit = hex(b[i]) {
        // Too many digits, or a value past Int.max, is known as soon as the digit arrives.
        if i - sizeStart == 16 || size > Int.max >> 4 { return fail() }
        size = size << 4 | digit
        i += 1
      }
      if i == b.count { return result.consumedAll(b) }  // the size may go on
      if i == sizeStart { return fail() }
      // [ OWS ";" extension ] CRLF
      var sawSpace = false
      while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1; sawSpace = true }
      if i == b.count { return result.consumedAll(b) }
      if b[i] == 0x3B {
        i += 1
        let extStart = i
        while i < b.count, b[i] != 0x0D {
          if b[i] == 0x0A || !(b[i] == 0x09 || (b[i] >= 0x20 && b[i] != 0x7F)) { return fail() }
          i += 1
          if i - extStart > maxExtension { return fail() }
        }
        if i == b.count { return result.consumedAll(b) }
      } else if sawSpace || b[i] != 0x0D {
        return fail()
      }
      // CRLF
      if i + 1 >= b.count { return result.consumedAll(b) }
      if b[i + 1] != 0x0A { return fail() }
      i += 2
      if size == 0 { return trailers(b, from: i, maxTrailer: maxTrailer, result) }
      let available = min(size, b.count - i)
      result.body += b[i..<i + available]
      i += available
      if available < size { return result.consumedAll(b) }
      if i == b.count { return result.consumedAll(b) }
      if b[i] != 0x0D { return fail() }
      if i + 1 == b.count { return result.consumedAll(b) }
      if b[i + 1] != 0x0A { return fail() }
      i += 2
    }
  }

  /// `*( field-line CRLF ) CRLF` from `start`.
  static func trailers(_ b: UnsafeRawBufferPointer, from start: Int, maxTrailer: Int, _ partial: Result) -> Result {
    var result = partial
    var i = start
    while true {
      let lineStart = i
      while i < b.count, b[i] != 0x0D, b[i] != 0x0A { i += 1 }
      let lineEnd = i
      if i - start > maxTrailer { result.failed = true; return result }
      if i == b.count { return result.consumedAll(b) }
      if b[i] == 0x0A { result.failed = true; return result }
      if i + 1 - start > maxTrailer { result.failed = true; return result }
      if i + 1 == b.count { return result.consumedAll(b) }
      if b[i + 1] != 0x0A { result.failed = true; return result }
      if i + 2 - start > maxTrailer { result.failed = true; return result }
      i += 2
      if lineEnd == lineStart {
        result.finished = true
        result.consumed = i
        return result
      }
      if !isFieldLine(b, lineStart..<lineEnd) { result.failed = true; return result }
    }
  }

  /// `token ":" OWS *( field-vchar / SP / HTAB ) OWS`.
  static func isFieldLine(_ b: UnsafeRawBufferPointer, _ line: Range<Int>) -> Bool {
    guard let colon = line.first(where: { b[$0] == 0x3A }), colon > line.lowerBound else { return false }
    let tchars = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    guard (line.lowerBound..<colon).allSatisfy({ tchars.contains(b[$0]) }) else { return false }
    return (colon + 1..<line.upperBound).allSatisfy { b[$0] == 0x09 || (b[$0] >= 0x20 && b[$0] != 0x7F) }
  }

  static func hex(_ byte: UInt8) -> Int? {
    switch byte {
    case 0x30...0x39: Int(byte - 0x30)
    case 0x41...0x46: Int(byte - 0x37)
    case 0x61...0x66: Int(byte - 0x57)
    default: nil
    }
  }
}

extension ReferenceChunked.Result {
  /// The input ended inside the body: all of it was taken, nothing is wrong yet.
  func consumedAll(_ b: UnsafeRawBufferPointer) -> Self {
    var copy = self
    copy.consumed = b.count
    return copy
  }
}
