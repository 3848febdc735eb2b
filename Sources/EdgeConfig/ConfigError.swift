/// A configuration that cannot be used, with where it went wrong when known:
/// `Caddyfile:7:5: unknown directive 'revers_proxy' (did you mean 'reverse_proxy'?)`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
  public var location: SourceLocation?
  public var message: String
  public init(_ message: String, at location: SourceLocation? = nil) {
    self.message = message
    self.location = location
  }
  public var description: String { location.map { "\($0): \(message)" } ?? message }
}

extension ConfigError {
  /// ` (did you mean 'x'?)` for the candidate closest to `name` within edit distance 2, else "": the hint
  /// the adapter's errors end with, for messages made outside EdgeConfig (admin API paths).
  public static func suggestion(for name: String, among candidates: some Sequence<String>) -> String {
    DirectiveCatalog.suggestion(for: name, among: candidates)
  }
}
