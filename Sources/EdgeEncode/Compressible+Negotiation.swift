extension Compressible {
  /// The coding to answer with, from those the server `offered` (in its order of preference, as written
  /// in the config), given the request's `Accept-Encoding` (RFC 9110 §12.5.3); nil means send the body
  /// as it is.
  ///
  /// The client's q-values decide first, the server's order breaks ties. A coding the client names takes
  /// its own q-value; one it does not name takes that of `*`, if any. So `gzip;q=0, *` refuses gzip and
  /// accepts zstd. `x-gzip` is gzip. Names and `q` are case-insensitive; elements with a malformed
  /// q-value are ignored, and of a coding named twice the first counts. `identity` never needs choosing:
  /// nil already means it, even when the client refused it (`identity;q=0`), since a plain body beats
  /// a 415 for a response that was going to succeed.
  public static func preferredCoding(_ acceptEncoding: String?, offered: [ContentCoding]) -> ContentCoding? {
    guard let acceptEncoding else { return nil }
    var weights = Weights()
    for element in acceptEncoding.utf8.split(separator: UInt8(ascii: ",")) {
      var parts = element.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false).makeIterator()
      guard let name = parts.next().map(trimmed), !name.isEmpty, let q = qValue(&parts) else { continue }
      if name.count == 1, name.first == UInt8(ascii: "*") {
        weights.wildcard = weights.wildcard ?? q
      } else if let coding = ContentCoding(token: name) {
        weights[coding] = weights[coding] ?? q
      }
    }
    var best: ContentCoding?
    var bestQ = 0
    for coding in offered {
      let q = weights[coding] ?? weights.wildcard ?? 0
      if q > bestQ { (best, bestQ) = (coding, q) }
    }
    return best
  }

  /// A fresh streaming encoder for `coding`; nil when its library cannot be set up (out of memory).
  public static func makeEncoder(_ coding: ContentCoding) -> (any ResponseEncoder)? {
    switch coding {
    case .gzip: GzipEncoder()
    case .zstd: ZstdEncoder()
    }
  }

  /// The q-value among an element's parameters, in thousandths (1000 when absent); nil when it is
  /// malformed, which drops the element. Other parameters are ignored.
  private static func qValue(_ parameters: inout some IteratorProtocol<Substring.UTF8View>) -> Int? {
    var q = 1000
    while let parameter = parameters.next() {
      let pair = parameter.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
      guard let key = pair.first.map(trimmed), key.count == 1, asciiLowercase(key.first!) == UInt8(ascii: "q") else { continue }
      guard pair.count == 2, let value = thousandths(trimmed(pair[1])) else { return nil }
      q = value
    }
    return q
  }

  /// RFC 9110's qvalue: `0`, `1`, or either with up to three decimals, not above 1.
  private static func thousandths(_ text: Substring.UTF8View) -> Int? {
    var bytes = text.makeIterator()
    guard let first = bytes.next(), first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
    var value = Int(first - UInt8(ascii: "0")) * 1000
    guard let dot = bytes.next() else { return value }
    guard dot == UInt8(ascii: ".") else { return nil }
    var scale = 100
    while let digit = bytes.next() {
      guard scale > 0, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
      value += Int(digit - UInt8(ascii: "0")) * scale
      scale /= 10
    }
    return value <= 1000 ? value : nil
  }

  private static func trimmed(_ text: Substring.UTF8View) -> Substring.UTF8View {
    let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    guard let start = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else {
      return text[text.endIndex...]
    }
    return text[start...last]
  }
}

/// The q-values one `Accept-Encoding` gave, in thousandths; nil where it said nothing.
private struct Weights {
  var wildcard: Int?
  private var zstd: Int?
  private var gzip: Int?

  subscript(coding: ContentCoding) -> Int? {
    get {
      switch coding {
      case .zstd: zstd
      case .gzip: gzip
      }
    }
    set {
      switch coding {
      case .zstd: zstd = newValue
      case .gzip: gzip = newValue
      }
    }
  }
}

extension ContentCoding {
  /// A coding's token as a client writes it, in any case; `x-gzip` is the old name of gzip.
  fileprivate init?(token: Substring.UTF8View) {
    for (name, coding) in [("gzip", ContentCoding.gzip), ("x-gzip", .gzip), ("zstd", .zstd)]
    where name.utf8.count == token.count && zip(name.utf8, token).allSatisfy({ $0 == asciiLowercase($1) }) {
      self = coding
      return
    }
    return nil
  }
}

private func asciiLowercase(_ byte: UInt8) -> UInt8 {
  (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 0x20 : byte
}
