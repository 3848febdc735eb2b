/// Why an ACME operation failed. `description` reads like Caddy's chained errors
/// (`obtaining [a.example]: authorization a.example: http-01 invalid: urn:…:unauthorized: …`), and when the
/// CA answered with a problem document (RFC 8555 §6.7) it is kept whole in `problem`.
public struct ACMEError: Error, Sendable, CustomStringConvertible {
  public enum Kind: Sendable, Hashable {
    /// The CA refused a request; `problem` says why.
    case server
    /// HTTP 429, or 503 with Retry-After: try again after `retryAfter` (the caller schedules that).
    case rateLimited
    /// An authorization or order ended `invalid`; `problem` holds the CA's reason (the challenge's error).
    case validationFailed
    /// The CA offered no challenge type any configured solver handles.
    case noSolver
    /// Polling an authorization or order ran past its deadline.
    case timedOut
    /// Connecting, TLS, or HTTP framing failed before a usable answer arrived.
    case transport
    /// The CA's answer was not what RFC 8555 says it must be (missing header, unparsable JSON).
    case protocolViolation
    /// An OpenSSL call failed (key generation, signing, parsing a certificate).
    case crypto
    /// The caller passed something unusable (a malformed name, a key of the wrong type).
    case invalidInput
    /// A challenge solver's `present` threw; its error is in `message`.
    case solver
  }

  public let kind: Kind
  /// The CA's problem document, when there was one.
  public let problem: ACMEProblem?
  /// The HTTP status of the failing response, when there was one.
  public let httpStatus: Int?
  /// How long the CA asked us to wait (Retry-After), when it said.
  public let retryAfter: Duration?
  /// What was being done, outermost first.
  public private(set) var context: [String] = []
  /// The innermost reason.
  public let message: String

  init(
    _ kind: Kind, _ message: String, problem: ACMEProblem? = nil, httpStatus: Int? = nil,
    retryAfter: Duration? = nil
  ) {
    self.kind = kind
    self.message = message
    self.problem = problem
    self.httpStatus = httpStatus
    self.retryAfter = retryAfter
  }

  public var description: String { (context + [message]).joined(separator: ": ") }

  /// This error with `step` prepended to its context.
  func adding(_ step: String) -> ACMEError {
    var copy = self
    copy.context.insert(step, at: 0)
    return copy
  }
}

/// Runs `body`; an `ACMEError` leaving it gets `step` as context (others, e.g. cancellation, pass as they are).
func withContext<T>(
  _ step: @autoclosure () -> String, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
) async throws -> T {
  do {
    return try await body()
  } catch let error as ACMEError {
    throw error.adding(step())
  }
}
