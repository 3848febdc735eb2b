import Foundation

/// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as a wait from `now` (never negative).
enum RetryAfter {
  static func parse(_ value: String?, now: Date = Date()) -> Duration? {
    guard let value = value?.trimmingSpaces, !value.isEmpty else { return nil }
    if let seconds = Int(value) { return .seconds(max(0, seconds)) }
    guard let date = httpDate(value) else { return nil }
    return .milliseconds(max(0, Int((date.timeIntervalSince(now) * 1000).rounded(.up))))
  }

  private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

  /// IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT` (the only form senders may generate).
  static func httpDate(_ text: String) -> Date? {
    let fields = text.split(separator: " ")
    guard fields.count == 6, fields[5] == "GMT", let day = Int(fields[1]), let year = Int(fields[3]),
      let month = months.firstIndex(of: fields[2].lowercased())
    else { return nil }
    let clock = fields[4].split(separator: ":").compactMap { Int($0) }
    guard clock.count == 3 else { return nil }
    var parts = DateComponents()
    (parts.year, parts.month, parts.day) = (year, month + 1, day)
    (parts.hour, parts.minute, parts.second) = (clock[0], clock[1], clock[2])
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(from: parts)
  }
}

/// Link fields (RFC 8288) as ACME uses them: `<url>;rel="alternate"`, possibly several per field.
enum LinkHeader {
  /// Targets of every link whose `rel` includes `relation`, in order, made absolute with `resolve`.
  static func targets(_ fields: [String], relation: String, resolve: (String) -> String) -> [String] {
    var result: [String] = []
    for field in fields {
      var rest = Substring(field)
      while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
        let target = String(rest[rest.index(after: open)..<close])
        let afterTarget = rest[rest.index(after: close)...]
        let end = afterTarget.firstIndex(of: "<") ?? afterTarget.endIndex  // next link starts at the next '<'
        let parameters = afterTarget[..<end]
        rest = afterTarget[end...]
        for parameter in parameters.split(separator: ";") {
          let pair = parameter.split(separator: "=", maxSplits: 1)
          guard pair.count == 2, pair[0].trimmingSpaces.lowercased() == "rel" else { continue }
          var value = pair[1].trimmingSpaces
          if value.hasSuffix(",") { value.removeLast() }
          let relations = value.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")).lowercased().split(separator: " ")
          if relations.contains(Substring(relation.lowercased())) { result.append(resolve(target)) }
        }
      }
    }
    return result
  }
}

/// RFC 3339 timestamps (ARI windows), with or without fractional seconds.
enum RFC3339 {
  static func parse(_ text: String) -> Date? {
    let plain = ISO8601DateFormatter()
    plain.formatOptions = [.withInternetDateTime]
    if let date = plain.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return fractional.date(from: text)
  }
}
