/// Durations as written in a Caddyfile and in edge's JSON.
///
/// Syntax (Caddy's, which is Go's `time.ParseDuration` plus `d`): one or more `<number><unit>` parts,
/// e.g. `500ms`, `10s`, `5m`, `1h`, `1d`, `1m30s`, `1.5h`, with units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`
/// and `d` (24 h). A leading `-` makes it negative. In edge a bare integer means seconds (`30` = `30s`).
/// Precision is one nanosecond.
extension Duration {
  private static let units: [(suffix: String, nanoseconds: Int64)] = [
    ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
    ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000),
  ]

  /// Parses Caddyfile duration syntax; nil when `text` is not a duration.
  public init?(caddyfile text: String) {
    var rest = Substring(text)
    var negative = false
    if rest.hasPrefix("-") || rest.hasPrefix("+") {
      negative = rest.hasPrefix("-")
      rest = rest.dropFirst()
    }
    guard !rest.isEmpty else { return nil }
    if let seconds = Int64(rest) {
      guard let total = Self.multiply(seconds, 1_000_000_000) else { return nil }
      self = .nanoseconds(negative ? -total : total)
      return
    }
    var total: Int64 = 0
    while !rest.isEmpty {
      let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
      guard !number.isEmpty, number != "." else { return nil }
      rest = rest.dropFirst(number.count)
      let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
      guard let unit = Self.units.first(where: { $0.suffix == unitText }) else { return nil }
      rest = rest.dropFirst(unitText.count)
      guard let part = Self.nanoseconds(of: number, unit: unit.nanoseconds) else { return nil }
      let (sum, overflow) = total.addingReportingOverflow(part)
      guard !overflow else { return nil }
      total = sum
    }
    self = .nanoseconds(negative ? -total : total)
  }

  /// `12.5` of a unit, in nanoseconds (fraction digits beyond the unit's precision are dropped).
  private static func nanoseconds(of number: Substring, unit: Int64) -> Int64? {
    let pieces = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard pieces.count <= 2, !pieces[0].contains("."), pieces.count == 1 || !pieces[1].contains(".") else {
      return nil
    }
    let whole = pieces[0].isEmpty ? 0 : Int64(pieces[0])
    guard let whole, let base = multiply(whole, unit) else { return nil }
    guard pieces.count == 2, !pieces[1].isEmpty else { return base }
    var fraction: Int64 = 0
    var scale = unit
    for digit in pieces[1] {
      guard let d = digit.wholeNumberValue else { return nil }
      scale /= 10
      fraction += Int64(d) * scale
      if scale == 0 { break }
    }
    return base + fraction
  }

  private static func multiply(_ a: Int64, _ b: Int64) -> Int64? {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? nil : product
  }

  /// Whole nanoseconds (sub-nanosecond parts are dropped).
  var totalNanoseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
  }

  /// The shortest Caddyfile spelling, largest units first: `30s`, `1m30s`, `1h`, `250ms`, `0s`.
  /// `Duration(caddyfile: d.caddyfileString) == d` for whole nanoseconds.
  public var caddyfileString: String {
    var n = totalNanoseconds
    if n == 0 { return "0s" }
    var out = n < 0 ? "-" : ""
    n = n == .min ? .max : abs(n)
    for (suffix, size) in [("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
      ("ms", 1_000_000), ("us", 1_000), ("ns", 1)] as [(String, Int64)] where n >= size {
      out += "\(n / size)\(suffix)"
      n %= size
    }
    return out
  }
}
