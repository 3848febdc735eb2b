#if canImport(Glibc)
  import Glibc
#endif

/// The IMF-fixdate form of RFC 9110 §5.6.7 (`Sun, 06 Nov 1994 08:49:37 GMT`), for the `Date` field.
public enum HTTPDate {
  private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
  private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  /// `seconds` since the Unix epoch, formatted.
  public static func format(_ seconds: Int) -> String {
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
      + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
  }
}

/// The current `Date` field line, formatted at most once a second. One per loop (not thread-safe).
public final class DateFieldCache {
  private var second = -1
  private var line: [UInt8] = []

  public init() {}

  /// `Date: <now>\r\n`.
  public var field: [UInt8] {
    let now = Int(time(nil))
    if now != second {
      second = now
      line = Array("Date: \(HTTPDate.format(now))\r\n".utf8)
    }
    return line
  }
}
