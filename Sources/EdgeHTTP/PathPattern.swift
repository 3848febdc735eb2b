/// A compiled Caddy path matcher pattern: exact (`/a`), prefix (`/api/*`), suffix (`*.png`), substring
/// (`*/x/*`) or everything (`*`). Matching is case-insensitive on ASCII, like Caddy's.
public enum PathPattern: Sendable, Equatable {
  case any
  case exact([UInt8])
  case prefix([UInt8])
  case suffix([UInt8])
  case contains([UInt8])

  public init(_ pattern: String) {
    let bytes = Array(pattern.lowercased().utf8)
    let star = UInt8(ascii: "*")
    if pattern == "*" {
      self = .any
    } else if bytes.count >= 2 && bytes.first == star && bytes.last == star {
      self = .contains(Array(bytes.dropFirst().dropLast()))
    } else if bytes.last == star {
      self = .prefix(Array(bytes.dropLast()))
    } else if bytes.first == star {
      self = .suffix(Array(bytes.dropFirst()))
    } else {
      self = .exact(bytes)
    }
  }

  /// `path` is the request path without the query.
  public func matches(_ path: UnsafeRawBufferPointer) -> Bool {
    switch self {
    case .any: return true
    case .exact(let p): return path.count == p.count && Self.equal(path, 0, p)
    case .prefix(let p): return path.count >= p.count && Self.equal(path, 0, p)
    case .suffix(let p): return path.count >= p.count && Self.equal(path, path.count - p.count, p)
    case .contains(let p):
      guard path.count >= p.count else { return false }
      for start in 0...(path.count - p.count) where Self.equal(path, start, p) { return true }
      return false
    }
  }

  private static func equal(_ path: UnsafeRawBufferPointer, _ offset: Int, _ pattern: [UInt8]) -> Bool {
    for i in 0..<pattern.count {
      var c = path[offset + i]
      if c >= 65 && c <= 90 { c += 32 }
      if c != pattern[i] { return false }
    }
    return true
  }
}
