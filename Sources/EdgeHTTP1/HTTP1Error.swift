/// Why a message head or body was rejected, with the status to answer it with.
///
/// Request-side errors carry 400, 414, 431, 501 or 505; errors in what an upstream sent carry 502.
public struct HTTP1Error: Error, Equatable, Sendable, CustomStringConvertible {
  /// The HTTP status code that fits the error.
  public var status: Int
  /// What exactly was wrong.
  public var reason: Reason

  /// An error with an explicit status.
  public init(status: Int, reason: Reason) {
    self.status = status
    self.reason = reason
  }

  /// An error with the status a server answers a request with for `reason`.
  public init(_ reason: Reason) {
    self.init(status: reason.requestStatus, reason: reason)
  }

  public var description: String { "\(status) \(reason.description)" }
}
