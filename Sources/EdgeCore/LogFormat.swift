import Logging

#if canImport(Glibc)
  import Glibc
#endif

/// One line per event on stderr: `2026-11-21T19:40:00.123Z info  [edge.proxy] message key=value …`.
/// Written with one `write(2)` per line so lines from several loops never interleave.
public struct LineLogHandler: LogHandler {
  public var metadata: Logger.Metadata = [:]
  public var logLevel: Logger.Level
  private let label: String

  public init(label: String, level: Logger.Level) {
    self.label = label
    self.logLevel = level
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    var line = "\(Self.timestamp()) \(event.level.rawValue.padding(5)) [\(label)] \(event.message)"
    let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
    for key in merged.keys.sorted() {
      line += " \(key)=\(merged[key]!)"
    }
    line += "\n"
    var bytes = Array(line.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
  }

  static func timestamp() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return timestamp(seconds: Int(ts.tv_sec), nanoseconds: Int(ts.tv_nsec))
  }

  /// RFC 3339 UTC with milliseconds: `2026-11-21T23:59:59.123Z`.
  public static func timestamp(seconds: Int, nanoseconds: Int) -> String {
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let ms = nanoseconds / 1_000_000
    let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
      + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(msText)Z"
  }
}

extension String {
  fileprivate func padding(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
}

/// Sets up swift-log once for the process.
public enum EdgeLogging {
  public static func bootstrap(level: Logger.Level) {
    LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level) }
  }
}
