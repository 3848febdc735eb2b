import EdgeHTTP1

// MARK: - Conditional requests

/// RFC 9110 §13.2.2: If-Match, then If-Unmodified-Since, then If-None-Match, then If-Modified-Since.
enum Preconditions {
  enum Outcome { case proceed, notModified, failed }

  /// Whether `headers` may hold a field that conditional or range handling reads (`If-…`, `Range`), in
  /// one pass: a plain request then skips the five lookups. Any `If-` name or five-letter `R` name says
  /// yes, so a yes only means "look".
  static func mayApply(_ headers: HTTPHeaders) -> Bool {
    var found = false
    headers.forEachField { name, _ in
      guard !found, name.count >= 5 else { return }
      let first = name[0] | 0x20
      found = (first == UInt8(ascii: "i") && name[1] | 0x20 == UInt8(ascii: "f") && name[2] == UInt8(ascii: "-"))
        || (first == UInt8(ascii: "r") && name.count == 5)
    }
    return found
  }

  static func evaluate(_ headers: HTTPHeaders, etag: String, modified: Int) -> Outcome {
    if let first = headers["if-match"] {
      if !EntityTag.list(first, headers, "if-match", matches: etag, strong: true) { return .failed }
    } else if let value = headers["if-unmodified-since"], let date = HTTPDateParser.parse(value), modified > date {
      return .failed
    }
    if let first = headers["if-none-match"] {
      if EntityTag.list(first, headers, "if-none-match", matches: etag, strong: false) { return .notModified }
    } else if let value = headers["if-modified-since"], let date = HTTPDateParser.parse(value), modified <= date {
      return .notModified
    }
    return .proceed
  }

  /// Whether a Range may be honoured: no If-Range, or one that names the current representation (a strong
  /// ETag, or exactly its Last-Modified date). Otherwise the whole file is sent.
  static func ifRangeAllows(_ value: String?, etag: String, modified: Int) -> Bool {
    guard let value else { return true }
    if value.hasPrefix("\"") || value.hasPrefix("W/") {
      return EntityTag.list([value], matches: etag, strong: true)
    }
    return HTTPDateParser.parse(value) == modified
  }
}

/// An entity tag as it appears in If-Match, If-None-Match and If-Range.
struct EntityTag: Equatable {
  var weak: Bool
  /// With its quotes.
  var opaque: Substring

  /// Whether the fields `name` of `headers`, whose first value is `first`, match `etag`: a revalidation
  /// sends back exactly our tag, which matches without gathering the fields.
  static func list(_ first: String, _ headers: HTTPHeaders, _ name: String, matches etag: String, strong: Bool) -> Bool {
    isExactly(first, etag) || list(headers.values(name), matches: etag, strong: strong)
  }

  /// Whether `value` is `etag` byte for byte: one strong tag with no inner quote, so exactly what parsing
  /// would find equal, strongly or weakly.
  private static func isExactly(_ value: String, _ etag: String) -> Bool { value.utf8.elementsEqual(etag.utf8) }

  /// Whether `values` (field values, `*` or a list of tags) matches `etag` (ours, strong): strong comparison
  /// ignores weak tags; weak comparison compares the opaque parts only. A malformed tail is ignored.
  static func list(_ values: [String], matches etag: String, strong: Bool) -> Bool {
    for value in values {
      if isExactly(value, etag) { return true }
      if value.trimmingOWS == "*" { return true }
      var matched = false
      forEach(in: value) { tag in
        matched = tag.opaque == etag[...] && (!strong || !tag.weak)
        return !matched
      }
      if matched { return true }
    }
    return false
  }

  /// Calls `body` with each tag of one comma-separated list while it returns true, up to the first
  /// malformed element (a tag may contain commas).
  static func forEach(in value: String, _ body: (EntityTag) -> Bool) {
    var rest = Substring(value)
    while true {
      rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
      if rest.isEmpty { return }
      var weak = false
      if rest.hasPrefix("W/") {
        weak = true
        rest = rest.dropFirst(2)
      }
      guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else { return }
      guard body(EntityTag(weak: weak, opaque: rest[...close])) else { return }
      rest = rest[rest.index(after: close)...]
    }
  }
}

extension StringProtocol {
  /// Without leading and trailing spaces and tabs.
  var trimmingOWS: Substring {
    let s = self[...].drop { $0 == " " || $0 == "\t" }
    var end = s.endIndex
    while end > s.startIndex, s[s.index(before: end)] == " " || s[s.index(before: end)] == "\t" { end = s.index(before: end) }
    return Substring(s[..<end])
  }
}

/// Reads the three HTTP-date forms recipients must accept (RFC 9110 §5.6.7): IMF-fixdate, RFC 850, asctime.
enum HTTPDateParser {
  private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

  /// Seconds since the epoch, or nil if `value` is not an HTTP-date.
  static func parse(_ value: String) -> Int? {
    let parts = value.split(separator: " ")
    var day: Substring, month: Substring, year: Substring, time: Substring
    switch parts.count {
    case 6 where parts[0].hasSuffix(",") && parts[5] == "GMT":  // Sun, 06 Nov 1994 08:49:37 GMT
      (day, month, year, time) = (parts[1], parts[2], parts[3], parts[4])
    case 4 where parts[0].hasSuffix(",") && parts[3] == "GMT":  // Sunday, 06-Nov-94 08:49:37 GMT
      let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
      guard date.count == 3 else { return nil }
      (day, month, year, time) = (date[0], date[1], date[2], parts[2])
    case 5:  // Sun Nov  6 08:49:37 1994
      (day, month, year, time) = (parts[2], parts[1], parts[4], parts[3])
    default: return nil
    }
    let clock = time.split(separator: ":", omittingEmptySubsequences: false)
    guard let d = number(day, digits: 1...2), let monthIndex = months.firstIndex(of: month.lowercased()),
      var y = number(year, digits: 2...4), year.count != 3, clock.count == 3,
      let h = number(clock[0], digits: 2...2), let m = number(clock[1], digits: 2...2), let s = number(clock[2], digits: 2...2),
      (1...31).contains(d), h < 24, m < 60, s <= 60
    else { return nil }
    if year.count == 2 { y += y < 70 ? 2000 : 1900 }
    return daysFromCivil(year: y, month: monthIndex + 1, day: d) * 86_400 + h * 3600 + m * 60 + s
  }

  private static func number(_ text: Substring, digits: ClosedRange<Int>) -> Int? {
    guard digits.contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(text)
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }
}

// MARK: - Ranges

/// A `Range: bytes=…` request against a file of known size. Only one range is served; a list of several is
/// answered with the whole file, which RFC 9110 §14.2 allows.
enum ByteRange: Equatable {
  case full
  case partial(offset: Int, length: Int)
  case unsatisfiable

  /// `.full` for anything malformed (the header is then ignored), several ranges or another unit.
  static func evaluate(_ header: String, size: Int) -> ByteRange {
    let value = header.trimmingOWS
    guard value.count > 6, value.prefix(6).lowercased() == "bytes=" else { return .full }
    let spec = value.dropFirst(6).trimmingOWS
    guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .full }
    let first = spec[..<dash]
    let last = spec[spec.index(after: dash)...]
    if first.isEmpty {
      guard let suffix = digits(last) else { return .full }
      guard suffix > 0 else { return .unsatisfiable }
      let length = min(suffix, size)
      return .partial(offset: size - length, length: length)
    }
    guard let start = digits(first) else { return .full }
    var end = size - 1
    if !last.isEmpty {
      guard let parsed = digits(last), parsed >= start else { return .full }
      end = min(parsed, size - 1)
    }
    guard start < size else { return .unsatisfiable }
    return .partial(offset: start, length: end - start + 1)
  }

  /// A decimal number, saturating at `Int.max` (a huge position is past any end, not an error).
  private static func digits(_ text: Substring) -> Int? {
    guard !text.isEmpty else { return nil }
    var value = 0
    for byte in text.utf8 {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
      value = overflow1 || overflow2 ? Int.max : sum
    }
    return value
  }
}
