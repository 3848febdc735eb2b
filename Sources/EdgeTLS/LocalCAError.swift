/// Why the local CA could not load, create, renew or issue, with the step and the file involved:
/// `local CA: creating root: writing /var/lib/edge/pki/root.key: permission denied`.
public struct LocalCAError: Error, Sendable, CustomStringConvertible {
  /// What the CA was doing: `preparing /dir`, `loading root`, `renewing intermediate`, `issuing for a, b`.
  public let step: String
  /// The cause: a file error (naming the file), an OpenSSL error, or a rejected name.
  public let underlying: any Error & Sendable

  init(_ step: String, _ underlying: any Error & Sendable) {
    self.step = step
    self.underlying = underlying
  }

  /// The file the error is about, when there is one.
  public var path: String? { (underlying as? CAFileError)?.path }

  public var description: String { "local CA: \(step): \(underlying)" }
}

/// A problem with one of the CA's files: `reading /dir/root.key: not a PEM private key (…)`.
struct CAFileError: Error, Sendable, CustomStringConvertible {
  /// `reading`, `writing`, `checking`, `creating`, `locking`.
  let operation: String
  let path: String
  let reason: String

  /// From a failed system call: the reason is `strerror(errno)`, lower-cased like Go's errors.
  init(_ operation: String, _ path: String, errno code: Int32) {
    self.init(operation, path, reason: systemErrorText(code))
  }

  init(_ operation: String, _ path: String, reason: String) {
    self.operation = operation
    self.path = path
    self.reason = reason
  }

  var description: String { "\(operation) \(path): \(reason)" }
}

/// A name `issue(for:)` cannot put in a certificate.
struct InvalidSiteNameError: Error, Sendable, CustomStringConvertible {
  let name: String
  var description: String { "'\(name)' is neither an IP address nor a valid DNS name" }
}
