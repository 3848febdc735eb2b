import EdgeCaddyfile

/// Caddyfile: `log { output …; format …; level … }` in a site: one access-log line per request answered
/// by the site.
public struct SiteLog: Codable, Sendable, Equatable {
  public enum Output: String, Codable, Sendable {
    case stdout, stderr, discard, file
  }
  public enum Format: String, Codable, Sendable {
    /// One JSON object per line, Caddy's access-log fields.
    case json
    /// One human-readable line.
    case console
  }
  public var output: Output
  /// `output file <path>`.
  public var path: String?
  /// A log file above this size is renamed and a new one started; nil: never. Default 100 MiB.
  public var rollSize: Int?
  /// How many renamed files are kept. Default 10.
  public var rollKeep: Int
  /// File mode of a new log file. Default 0600.
  public var mode: Int
  public var format: Format
  /// Requests are logged at info, 5xx answers at error; below this level nothing is written.
  public var level: String

  public init(
    output: Output = .stderr, path: String? = nil, rollSize: Int? = 100 * 1024 * 1024, rollKeep: Int = 10,
    mode: Int = 0o600, format: Format = .json, level: String = "info"
  ) {
    self.output = output
    self.path = path
    self.rollSize = rollSize
    self.rollKeep = rollKeep
    self.mode = mode
    self.format = format
    self.level = level
  }

  /// Where lines go, as one string (sinks shared across sites and reloads are keyed by it).
  public var destination: String { output == .file ? "file:" + (path ?? "") : output.rawValue }
}

/// `log [<name>] { output stdout|stderr|discard|file <path> { roll_size; roll_keep; roll_disabled; mode };
/// format json|console; level <level> }`.
enum LogDirective {
  static func parse(_ d: inout Dispenser) throws(ConfigError) -> SiteLog {
    if d.nextArg() {
      throw ConfigError("named access logs ('log \(d.val)') are not supported yet; write 'log { … }'", at: d.token)
    }
    var log = SiteLog()
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "output": try output(&d, into: &log)
      case "format":
        let arg = try d.singleArg(for: "format")
        switch arg.text {
        case "json": log.format = .json
        case "console": log.format = .console
        case "filter", "transform", "append":
          throw ConfigError("log format '\(arg.text)' is not supported yet; use json or console", at: arg)
        default:
          throw ConfigError(
            "unknown log format '\(arg.text)'\(DirectiveCatalog.suggestion(for: arg.text, among: ["json", "console"])); use json or console",
            at: arg)
        }
        try d.noBlock("format")
      case "level":
        let arg = try d.singleArg(for: "level")
        let value = arg.text.lowercased()
        guard GlobalOptionsAdapter.levels.contains(value) else {
          throw ConfigError("unknown log level '\(arg.text)'; use one of \(GlobalOptionsAdapter.levels.joined(separator: ", "))", at: arg)
        }
        log.level = value
      case "hostnames", "no_hostname", "sampling", "include", "exclude":
        throw .unrecognized("log option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized("log option", d.val, caddyOnly: false, candidates: ["output", "format", "level"], at: d.token)
      }
    }
    return log
  }

  private static func output(_ d: inout Dispenser, into log: inout SiteLog) throws(ConfigError) {
    guard d.nextArg() else { throw ConfigError("'output' needs stdout, stderr, discard or file <path>", at: d.token) }
    let kind = d.token
    switch kind.text {
    case "stdout", "stderr", "discard":
      log.output = SiteLog.Output(rawValue: kind.text)!
      try d.noMoreArgs(for: "output \(kind.text)")
      try d.noBlock("output \(kind.text)")
    case "file":
      let path = try d.singleArg(for: "output file")
      log.output = .file
      log.path = path.text
      let level = d.nesting
      while d.nextBlock(level) {
        switch d.val {
        case "roll_size":
          log.rollSize = try d.sizeArg()
          if log.rollSize! < 1 { throw ConfigError("roll_size must be positive", at: d.token) }
        case "roll_keep": log.rollKeep = try d.intArg(atLeast: 1)
        case "roll_disabled":
          try d.noMoreArgs()
          log.rollSize = nil
        case "roll_uncompressed":
          try d.noMoreArgs()  // edge never compresses rolled files
        case "mode":
          let arg = try d.singleArg(for: "mode")
          guard let mode = Int(arg.text, radix: 8), (0...0o777).contains(mode) else {
            throw ConfigError("file mode '\(arg.text)' must be octal, e.g. 0640", at: arg)
          }
          log.mode = mode
        case "roll_keep_for", "roll_local_time", "roll_interval", "roll_at", "roll_minutes", "dir_mode":
          throw .unrecognized("log file option", d.val, caddyOnly: true, candidates: [], at: d.token)
        default:
          throw .unrecognized(
            "log file option", d.val, caddyOnly: false,
            candidates: ["roll_size", "roll_keep", "roll_disabled", "roll_uncompressed", "mode"], at: d.token)
        }
      }
    case "net":
      throw ConfigError("log output 'net' is not supported yet; use stdout, stderr, discard or file", at: kind)
    default:
      throw ConfigError(
        "unknown log output '\(kind.text)'\(DirectiveCatalog.suggestion(for: kind.text, among: ["stdout", "stderr", "discard", "file"])); use stdout, stderr, discard or file <path>",
        at: kind)
    }
  }
}
