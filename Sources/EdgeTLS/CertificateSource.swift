/// Where certificates the cache does not hold come from: files, cluster storage, an ACME issuer.
///
/// Asynchronous because the answer may need disk, network or another node. `done` is called exactly once,
/// on any thread; a session waiting for it hops back to its own loop before using the answer.
public protocol CertificateSource: Sendable {
  /// Finds a certificate for `serverName` (lower-case, as the client sent it) and calls `done` with it,
  /// or with nil when there is none.
  func certificate(for serverName: String, _ done: @escaping @Sendable (CertifiedKey?) -> Void)
}
