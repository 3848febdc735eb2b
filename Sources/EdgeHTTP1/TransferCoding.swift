/// The grammar of Transfer-Encoding (RFC 9112 §6.1), as strictly as a proxy must read it.
enum TransferCoding {
  /// What a Transfer-Encoding value asks for.
  enum Verdict: Equatable {
    /// Exactly `chunked`: the only value accepted.
    case chunked
    /// A list that mentions chunked but not as its only coding, `identity`, or bad syntax.
    case malformed
    /// Well-formed codings this module does not implement (such as `gzip` alone).
    case unsupported
  }

  static func classify(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Verdict {
    var elements = 0
    var chunked = false
    var malformed = false
    ASCII.forEachListElement(bytes, range) { element in
      elements += 1
      let coding = bytes.slice(element)
      if element.isEmpty || !coding.allSatisfy(ASCII.isTchar) || ASCII.equalsIgnoringCase(coding, "identity") {
        malformed = true
      } else if ASCII.equalsIgnoringCase(coding, "chunked") {
        chunked = true
      }
      return !malformed
    }
    if malformed { return .malformed }
    if chunked { return elements == 1 ? .chunked : .malformed }
    return .unsupported
  }
}
