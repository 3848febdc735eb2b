/// Sizes as written in a Caddyfile: `512` (bytes), `16KB`, `10MB`, `1.5GB`, `64KiB`.
///
/// Caddy's rule (go-humanize): decimal units are powers of 1000 (`KB` = 1000, `MB` = 1000², `GB`, `TB`),
/// binary units powers of 1024 (`KiB` = 1024, `MiB`, `GiB`, `TiB`). Units are case-insensitive, the `B`
/// may be left out (`16k` = 16000, `16ki` = 16384), and a space may separate number and unit.
public enum ByteSize {
  private static let units: [String: Double] = [
    "": 1, "b": 1,
    "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
    "ki": 1024, "kib": 1024, "mi": 1_048_576, "mib": 1_048_576, "gi": 1_073_741_824, "gib": 1_073_741_824,
    "ti": 1_099_511_627_776, "tib": 1_099_511_627_776,
  ]

  /// The number of bytes, or nil when `text` is not a size (or is negative or too large).
  public static func parse(_ text: String) -> Int? {
    let number = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
    let unit = text.dropFirst(number.count).trimmingPrefix(" ").lowercased()
    guard !number.isEmpty, let value = Double(number), let scale = units[unit] else { return nil }
    let bytes = (value * scale).rounded(.down)
    guard bytes >= 0, bytes < 9.0e18 else { return nil }
    return Int(bytes)
  }
}
