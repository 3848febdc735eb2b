/// The four forms of request-target (RFC 9112 §3.2) and what a proxy takes from each.
enum RequestTarget {
  /// What a valid target yields: the path to route on (nil: the target itself is the path) and the
  /// authority, when the target has one.
  struct Parts {
    var path: String?
    var authority: Range<Int>?
    /// An authority-form target (CONNECT): its authority is where to tunnel, not a replacement for Host.
    var isConnect = false
  }

  static func parse(
    _ bytes: UnsafeRawBufferPointer, _ target: Range<Int>, method: UnsafeRawBufferPointer
  ) throws(HTTP1Error) -> Parts {
    for i in target where !ASCII.isVisible(bytes[i]) { throw HTTP1Error(.invalidTarget) }
    let isConnect = method.elementsEqual("CONNECT".utf8)
    let first = bytes[target.lowerBound]
    if isConnect {
      // The authority becomes the request's host: it must be one a Host field could carry (an IP literal
      // closed by its "]", one port), or the target routes by a host no Host field can name.
      guard isAuthorityWithPort(bytes, target), ASCII.isValidHost(bytes, target) else {
        throw HTTP1Error(.authorityFormNotConnect)
      }
      return Parts(path: "", authority: target, isConnect: true)
    }
    if first == ASCII.slash { return Parts(path: nil, authority: nil) }
    if target.count == 1 && first == 0x2A {
      guard method.elementsEqual("OPTIONS".utf8) else { throw HTTP1Error(.asteriskFormNotOptions) }
      return Parts(path: nil, authority: nil)
    }
    if let afterScheme = schemeEnd(bytes, target) { return try absoluteForm(bytes, afterScheme..<target.upperBound) }
    if isAuthorityWithPort(bytes, target) { throw HTTP1Error(.authorityFormNotConnect) }
    throw HTTP1Error(.invalidTarget)
  }

  /// Just past `http://` or `https://` (scheme case-insensitive) at the start of `target`, or nil.
  private static func schemeEnd(_ bytes: UnsafeRawBufferPointer, _ target: Range<Int>) -> Int? {
    for scheme in ["http://", "https://"] {
      let end = target.lowerBound + scheme.utf8.count
      if end <= target.upperBound, ASCII.equalsIgnoringCase(bytes.slice(target.lowerBound..<end), scheme) {
        return end
      }
    }
    return nil
  }

  /// `authority path-abempty [ "?" query ]` after the scheme: the authority, and the path with a
  /// "/" in front when it is empty or only a query.
  private static func absoluteForm(_ bytes: UnsafeRawBufferPointer, _ rest: Range<Int>) throws(HTTP1Error) -> Parts {
    var end = rest.lowerBound
    while end < rest.upperBound, bytes[end] != ASCII.slash, bytes[end] != 0x3F, bytes[end] != 0x23 { end += 1 }
    let authority = rest.lowerBound..<end
    if bytes[authority].contains(0x40) { throw HTTP1Error(.userinfoInTarget) }
    guard !authority.isEmpty, bytes[authority].allSatisfy(ASCII.isHostByte), ASCII.isValidHost(bytes, authority) else {
      throw HTTP1Error(.invalidTarget)
    }
    let path = end..<rest.upperBound
    if !path.isEmpty && bytes[end] == ASCII.slash { return Parts(path: ASCII.string(bytes, path), authority: authority) }
    return Parts(path: "/" + ASCII.string(bytes, path), authority: authority)
  }

  /// Whether `range` is `uri-host ":" port` with a non-empty host and a decimal port.
  static func isAuthorityWithPort(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
    guard let colon = bytes[range].lastIndex(of: ASCII.colon), colon > range.lowerBound,
      colon + 1 < range.upperBound
    else { return false }
    return bytes[range.lowerBound..<colon].allSatisfy(ASCII.isHostByte)
      && bytes[colon + 1..<range.upperBound].allSatisfy(ASCII.isDigit)
  }
}

/// An origin-form target (`/a/b?x=1`, what `RequestHead.path` holds) split at its first `?`.
public enum OriginTarget {
  /// `/a/b?x=1` → (`/a/b`, `x=1`); without a `?` the query is nil.
  public static func split(_ target: String) -> (path: Substring, query: Substring?) {
    // Searched as bytes: `?` is ASCII, so its index is a character boundary (Character search was 3% of
    // a small static file's cost).
    let utf8 = target.utf8
    let offset = utf8.withContiguousStorageIfAvailable { $0.firstIndex(of: UInt8(ascii: "?")) }
      ?? utf8.firstIndex(of: UInt8(ascii: "?")).map { utf8.distance(from: utf8.startIndex, to: $0) }
    guard let offset else { return (Substring(target), nil) }
    let question = utf8.index(utf8.startIndex, offsetBy: offset)
    return (target[..<question], target[utf8.index(after: question)...])
  }

  /// `?x=1` for a target with a query, else "" (for putting a query back after a new path).
  public static func querySuffix(_ target: String) -> String {
    split(target).query.map { "?" + $0 } ?? ""
  }
}
