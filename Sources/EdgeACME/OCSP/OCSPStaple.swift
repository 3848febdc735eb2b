import Foundation

/// A verified OCSP response for one certificate (RFC 6960), ready to staple to TLS handshakes
/// (RFC 6066 §8) while it is fresh. `OCSPFetch.staple` only ever returns responses whose signature,
/// certificate ID and times checked out.
public struct OCSPStaple: Sendable, Hashable {
  /// What the responder says about the certificate (RFC 6960 §2.2).
  public enum Status: Sendable, Hashable {
    case good
    /// Never staple this: clients would refuse the connection. The certificate needs replacing.
    case revoked
    /// The responder does not know the certificate (wrong responder, or too new to be listed).
    case unknown
  }

  /// The OCSPResponse exactly as the responder sent it: the bytes to staple.
  public let der: [UInt8]
  public let status: Status
  /// When the status was known to be correct.
  public let thisUpdate: Date
  /// When newer information will be available; nil when the responder always has newer information.
  public let nextUpdate: Date?
  /// When a revoked certificate was revoked.
  public let revokedAt: Date?

  public init(der: [UInt8], status: Status, thisUpdate: Date, nextUpdate: Date?, revokedAt: Date? = nil) {
    self.der = der
    self.status = status
    self.thisUpdate = thisUpdate
    self.nextUpdate = nextUpdate
    self.revokedAt = revokedAt
  }

  /// Whether handshakes should carry this response: only a `good` one. (An `unknown` answer helps no
  /// client, and a `revoked` one makes every client that reads it refuse the connection.)
  public var isStapleable: Bool { status == .good }

  /// When to fetch a fresh response: halfway between thisUpdate and nextUpdate, but at least a minute
  /// and at most a day after `now`; an hour after `now` when the response has no nextUpdate.
  public func refreshDate(now: Date = Date()) -> Date {
    guard let nextUpdate else { return now.addingTimeInterval(Self.refreshWithoutNextUpdate) }
    let halfway = thisUpdate.addingTimeInterval(nextUpdate.timeIntervalSince(thisUpdate) / 2)
    let earliest = now.addingTimeInterval(Self.minimumRefreshDelay)
    let latest = now.addingTimeInterval(Self.maximumRefreshDelay)
    return min(max(halfway, earliest), latest)
  }

  static let refreshWithoutNextUpdate: TimeInterval = 3600
  static let minimumRefreshDelay: TimeInterval = 60
  static let maximumRefreshDelay: TimeInterval = 86_400
  /// How far in the future thisUpdate may be: the responder's clock may run a little ahead of ours.
  static let allowedClockSkew: TimeInterval = 300

  /// Refuses a response that is not yet valid or no longer valid at `now` (RFC 6960 §4.2.2.1: such
  /// responses are unreliable). Past nextUpdate there is no skew allowance: clients would refuse it.
  func checkTimes(now: Date) throws(ACMEError) {
    if thisUpdate.timeIntervalSince(now) > Self.allowedClockSkew {
      throw ACMEError(.protocolViolation, "response not yet valid: thisUpdate \(thisUpdate) is after \(now)")
    }
    guard let nextUpdate else { return }
    if nextUpdate < thisUpdate {
      throw ACMEError(.protocolViolation, "response nextUpdate \(nextUpdate) is before its thisUpdate \(thisUpdate)")
    }
    if nextUpdate <= now {
      throw ACMEError(.protocolViolation, "response expired: nextUpdate \(nextUpdate) is not after \(now)")
    }
  }
}
