/// A request path decoded into safe segments: no empty, `.` or `..` segment, none starting with a dot.
struct RequestPath: Equatable {
  /// The segments joined with `/`: no leading, trailing or doubled slash; empty for the root itself.
  var relative: String
  /// Whether the decoded path ends with `/` (a directory was asked for).
  var trailingSlash: Bool

  /// The last segment ("" for the root).
  var name: Substring {
    guard let slash = relative.utf8.lastIndex(of: UInt8(ascii: "/")) else { return relative[...] }
    return relative[relative.utf8.index(after: slash)...]
  }

  /// Decodes `%XX` escapes (an invalid escape, NUL or non-UTF-8 → 400), splits on `/` (an encoded slash
  /// splits too), and resolves `..` lexically: climbing above the root or naming a dotfile → 404.
  init(percentEncoded path: String) throws(FileServerError) {
    if let plain = Self.plain(path) {
      self = plain
      return
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(path.utf8.count)
    var iterator = path.utf8.makeIterator()
    while let byte = iterator.next() {
      if byte == UInt8(ascii: "%") {
        guard let high = iterator.next().flatMap(MatchPath.hexValue), let low = iterator.next().flatMap(MatchPath.hexValue) else {
          throw .badRequest
        }
        bytes.append(high << 4 | low)
      } else {
        bytes.append(byte)
      }
    }
    guard !bytes.contains(0), let decoded = String(validating: bytes, as: UTF8.self) else { throw .badRequest }
    var segments: [Substring] = []
    for part in decoded.split(separator: "/", omittingEmptySubsequences: true) {
      switch part {
      case ".": continue
      case "..":
        guard !segments.isEmpty else { throw .notFound }
        segments.removeLast()
      default:
        guard !part.hasPrefix(".") else { throw .notFound }
        segments.append(part)
      }
    }
    relative = segments.joined(separator: "/")
    trailingSlash = decoded.isEmpty || decoded.hasSuffix("/")
  }

  /// The common case in one pass over the bytes, without decoding: no `%`, no NUL, and no segment that is
  /// empty or starts with a dot (after the leading `/`). Such a path is its own decoded, cleaned form.
  /// nil when the path needs the full treatment.
  private static func plain(_ path: String) -> RequestPath? {
    let found = path.utf8.withContiguousStorageIfAvailable { bytes -> RequestPath? in
      let start = bytes.first == UInt8(ascii: "/") ? 1 : 0
      var previous = UInt8(ascii: "/")
      for byte in bytes[start...] {
        if byte == UInt8(ascii: "%") || byte == 0 { return nil }
        if previous == UInt8(ascii: "/") && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) { return nil }
        previous = byte
      }
      // `previous` is the last byte; `/` only when the path ends with one (or is "" or "/").
      let trailingSlash = previous == UInt8(ascii: "/")
      let end = trailingSlash ? max(start, bytes.count - 1) : bytes.count
      // Cut next to ASCII bytes of valid UTF-8: still valid.
      let relative = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
      return RequestPath(relative: relative, trailingSlash: trailingSlash)
    }
    return found ?? nil
  }

  private init(relative: String, trailingSlash: Bool) {
    self.relative = relative
    self.trailingSlash = trailingSlash
  }
}
