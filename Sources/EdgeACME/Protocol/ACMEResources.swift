import Foundation

/// An order (RFC 8555 §7.1.3), as the CA describes it.
struct ACMEOrder: Sendable, Decodable {
  /// pending → ready → processing → valid, or invalid.
  let status: String
  let identifiers: [ACMEIdentifier]
  let authorizations: [String]
  let finalize: String
  let certificate: String?
  let error: ACMEProblem?
}

/// An authorization (RFC 8555 §7.1.4): proof of control over one identifier.
struct ACMEAuthorization: Sendable, Decodable {
  /// pending → valid | invalid (and deactivated, expired, revoked).
  let status: String
  let identifier: ACMEIdentifier
  let challenges: [ACMEChallenge]
  /// True when the order asked for `*.` + identifier (RFC 8555 §7.1.4); the identifier is then the base name.
  let wildcard: Bool?

  /// The name as it was ordered: `*.` restored for wildcard authorizations.
  var orderedName: String { wildcard == true ? "*.\(identifier.value)" : identifier.value }

  /// The reason a failed authorization failed: the first challenge error the CA reported.
  var failure: ACMEProblem? { challenges.lazy.compactMap(\.error).first }
}

/// A challenge (RFC 8555 §7.1.5, §8).
struct ACMEChallenge: Sendable, Decodable {
  let type: String
  let url: String
  /// pending → processing → valid | invalid.
  let status: String
  let token: String?
  let error: ACMEProblem?
}

/// newOrder's payload (RFC 8555 §7.4), with RFC 9773's `replaces` when renewing.
struct NewOrderPayload: Encodable {
  let identifiers: [ACMEIdentifier]
  var replaces: String? = nil
}

/// newAccount's payload (RFC 8555 §7.3).
struct NewAccountPayload: Encodable {
  var contact: [String]? = nil
  var termsOfServiceAgreed: Bool? = nil
  var onlyReturnExisting: Bool? = nil
  var externalAccountBinding: FlattenedJWS? = nil
}

/// revokeCert's payload (RFC 8555 §7.6).
struct RevocationPayload: Encodable {
  let certificate: String
  let reason: Int?
}

/// finalize's payload (RFC 8555 §7.4).
struct FinalizePayload: Encodable {
  let csr: String
}

/// RFC 9773 §4.2 renewalInfo response body.
struct RenewalInfoBody: Decodable {
  struct Window: Decodable {
    let start: String
    let end: String
  }
  let suggestedWindow: Window
  let explanationURL: String?
}
