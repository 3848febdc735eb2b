/// The form of a request path that matchers see, as in Caddy: percent-decoded, `.` and `..` segments
/// resolved (never above `/`), repeated slashes merged, a trailing slash kept. Without it
/// `/public/../admin/x`, `/public/%2e%2e/admin/x` or `//admin/x` would slip past a `handle /admin/*`
/// that guards `/admin/x`, and reach an upstream that resolves them itself.
///
/// What is sent upstream and what `file_server` opens are not changed by this: it only decides routes.
public enum MatchPath {
  /// The normalised path, or nil when `raw` (a path without its query) is already normal: the common
  /// case costs one scan and no allocation.
  public static func normalized(_ raw: UnsafeRawBufferPointer) -> [UInt8]? {
    guard needsWork(raw) else { return nil }
    let decoded = percentDecoded(raw)
    var segments: [ArraySlice<UInt8>] = []
    for segment in decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
      if segment.elementsEqual([UInt8(ascii: ".")]) { continue }
      if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
        if !segments.isEmpty { segments.removeLast() }
        continue
      }
      segments.append(segment)
    }
    var out: [UInt8] = [UInt8(ascii: "/")]
    out.reserveCapacity(decoded.count)
    for (index, segment) in segments.enumerated() {
      if index > 0 { out.append(UInt8(ascii: "/")) }
      out.append(contentsOf: segment)
    }
    // `/a/` stays `/a/` (a directory), and so does `/a/.` as path.Clean-then-slash would give.
    let last = decoded.last
    let endsAsDirectory =
      last == UInt8(ascii: "/") || decoded.suffix(2).elementsEqual([UInt8(ascii: "/"), UInt8(ascii: ".")])
      || decoded.suffix(3).elementsEqual([UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: ".")])
    if endsAsDirectory && out.count > 1 { out.append(UInt8(ascii: "/")) }
    return out
  }

  /// `path` (decoded) as it may appear in a request target: bytes outside RFC 3986's `pchar` and `/`
  /// percent-encoded, `%` included.
  public static func escaped(_ path: some Collection<UInt8>) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(path.count)
    let digits = Array("0123456789ABCDEF".utf8)
    for byte in path {
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        out.append(byte)
      case _ where "-._~!$&'()*+,;=:@/".utf8.contains(byte):
        out.append(byte)
      default:
        out += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 15)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// A `%`, `//`, or a `.`/`..` segment somewhere.
  static func needsWork(_ raw: UnsafeRawBufferPointer) -> Bool {
    let slash = UInt8(ascii: "/")
    let dot = UInt8(ascii: ".")
    var index = 0
    while index < raw.count {
      let byte = raw[index]
      if byte == UInt8(ascii: "%") { return true }
      if byte == slash, index + 1 < raw.count {
        let next = raw[index + 1]
        if next == slash { return true }
        if next == dot {
          // `/.` then end or `/`, or `/..` then end or `/`.
          let after = index + 2 < raw.count ? raw[index + 2] : slash
          if after == slash { return true }
          if after == dot && (index + 3 >= raw.count || raw[index + 3] == slash) { return true }
        }
      }
      index += 1
    }
    return false
  }

  /// The value of one hex digit of a `%XX` escape (either case).
  static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  /// `%XX` decoded; a `%` not followed by two hex digits is kept as written.
  static func percentDecoded(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(raw.count)
    var index = 0
    while index < raw.count {
      let byte = raw[index]
      if byte == UInt8(ascii: "%"), index + 2 < raw.count, let high = hexValue(raw[index + 1]),
        let low = hexValue(raw[index + 2])
      {
        out.append(high << 4 | low)
        index += 3
      } else {
        out.append(byte)
        index += 1
      }
    }
    return out
  }
}
