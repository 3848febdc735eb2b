import EdgeStorage
import Foundation

/// When a managed certificate is renewed: inside the window the CA suggests (ACME Renewal Information),
/// at a random moment of it so a fleet's renewals spread out; otherwise once `ratio` of its lifetime is
/// left (default a third: at two thirds of its life, as Caddy and certbot do), with up to 1% of its
/// lifetime of jitter (a few hours for a 90-day certificate) so nodes that got certificates together do
/// not all renew at the same second.
public struct RenewalPolicy: Sendable {
  public var ratio: Double

  public init(ratio: Double? = nil) {
    self.ratio = ratio ?? 1.0 / 3.0
  }

  /// The moment renewal is due for a certificate described by `metadata`; `jitter` in 0..<1 picks the
  /// moment inside the ARI window or the jitter range (callers pass a random value once per certificate).
  public func dueDate(_ metadata: CertificateMetadata, jitter: Double) -> Date {
    if let window = metadata.ari, window.windowEnd > window.windowStart {
      let span = window.windowEnd.timeIntervalSince(window.windowStart)
      return window.windowStart.addingTimeInterval(span * jitter)
    }
    return dueDate(notBefore: metadata.notBefore, notAfter: metadata.notAfter, jitter: jitter)
  }

  public func dueDate(notBefore: Date, notAfter: Date, jitter: Double) -> Date {
    let lifetime = notAfter.timeIntervalSince(notBefore)
    let renewAt = notAfter.addingTimeInterval(-lifetime * ratio)
    return renewAt.addingTimeInterval(-lifetime * 0.01 * jitter)
  }
}
