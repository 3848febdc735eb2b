/// How a message's body is delimited (RFC 9112 §6.3).
public enum BodyFraming: Equatable, Hashable, Sendable {
  /// No body.
  case none
  /// Exactly this many bytes (Content-Length).
  case length(Int)
  /// The chunked transfer coding.
  case chunked
  /// Everything until the sender closes the connection (responses only).
  case untilClose
}
