import Foundation

/// What a CA suggests about renewing one certificate (RFC 9773 §4.2).
public struct ACMERenewalInfo: Sendable, Hashable {
  public let suggestedWindow: ACMERenewalWindow
  /// A page explaining the window (e.g. an incident report when the CA plans to revoke early).
  public let explanationURL: String?
  /// When to ask again (the response's Retry-After); RFC 9773 asks clients to poll no sooner.
  public let retryAfter: Duration?

  public init(suggestedWindow: ACMERenewalWindow, explanationURL: String?, retryAfter: Duration?) {
    self.suggestedWindow = suggestedWindow
    self.explanationURL = explanationURL
    self.retryAfter = retryAfter
  }
}

/// The span in which the CA wants a certificate renewed.
public struct ACMERenewalWindow: Sendable, Hashable {
  public let start: Date
  public let end: Date

  public init(start: Date, end: Date) {
    self.start = start
    self.end = end
  }

  /// A uniformly random moment in `window` (RFC 9773 §4.2 asks clients to spread renewals this way).
  /// A window whose end is not after its start yields its start. If the moment is already past, the
  /// caller should renew now.
  public static func randomTime(in window: ACMERenewalWindow) -> Date {
    var generator = SystemRandomNumberGenerator()
    return window.randomTime(using: &generator)
  }

  /// The same, with an injected generator (tests).
  public func randomTime<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Date {
    let span = end.timeIntervalSince(start)
    guard span > 0 else { return start }
    return start.addingTimeInterval(Double.random(in: 0...span, using: &generator))
  }
}
