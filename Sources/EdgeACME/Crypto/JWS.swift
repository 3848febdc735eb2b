import Foundation

/// A JWS in flattened JSON serialization (RFC 7515 §7.2.2), the only form ACME accepts (RFC 8555 §6.2).
struct FlattenedJWS: Encodable {
  let protected: String
  let payload: String
  let signature: String
}

/// The protected header of an ACME request: `jwk` for newAccount (and revocation by certificate key),
/// `kid` (the account URL) for everything else; `nonce` except inside an EAB.
private struct ProtectedHeader: Encodable {
  let alg: String
  var jwk: ACMEJWK? = nil
  var kid: String? = nil
  var nonce: String? = nil
  let url: String
}

enum JWS {
  /// Who signs: the account key, identified by its account URL once there is one, else by its JWK.
  enum Signer {
    case jwk(ACMEAccountKey)
    case kid(String, ACMEAccountKey)

    var key: ACMEAccountKey {
      switch self {
      case .jwk(let key), .kid(_, let key): key
      }
    }
  }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()

  /// The request body for `url`. `payload` nil is POST-as-GET (empty payload, RFC 8555 §6.3).
  static func sign(payload: [UInt8]?, url: String, nonce: String, signer: Signer) throws(ACMEError) -> [UInt8] {
    var header = ProtectedHeader(alg: "ES256", nonce: nonce, url: url)
    switch signer {
    case .jwk(let key): header.jwk = key.jwk
    case .kid(let account, _): header.kid = account
    }
    let protected = Base64URL.encode(try encode(header))
    let payloadText = payload.map { Base64URL.encode($0) } ?? ""
    let signature = try signer.key.sign(Array("\(protected).\(payloadText)".utf8))
    return try encode(FlattenedJWS(protected: protected, payload: payloadText, signature: Base64URL.encode(signature)))
  }

  /// The `externalAccountBinding` member of a newAccount payload (RFC 8555 §7.3.4): the account's JWK,
  /// MACed (HS256) with the key the CA handed out, under the CA's key identifier, for `url` (newAccount).
  static func externalAccountBinding(_ binding: ACMEExternalAccountBinding, accountKey: ACMEAccountKey, url: String)
    throws(ACMEError) -> FlattenedJWS
  {
    let header = try encode(ProtectedHeader(alg: "HS256", kid: binding.keyID, url: url))
    let protected = Base64URL.encode(header)
    let payload = Base64URL.encode(accountKey.jwk.canonicalJSON)
    let mac = Digest.hmacSHA256(key: binding.macKey, Array("\(protected).\(payload)".utf8))
    return FlattenedJWS(protected: protected, payload: payload, signature: Base64URL.encode(mac))
  }

  static func encode<Value: Encodable>(_ value: Value) throws(ACMEError) -> [UInt8] {
    do {
      return Array(try encoder.encode(value))
    } catch {
      throw ACMEError(.invalidInput, "encoding JSON: \(error)")
    }
  }
}

/// External Account Binding credentials (RFC 8555 §7.3.4), as CAs like ZeroSSL or Google hand them out.
public struct ACMEExternalAccountBinding: Sendable, Hashable {
  public let keyID: String
  /// The HMAC key, decoded from the CA's base64url text.
  let macKey: [UInt8]

  /// `macKey` is the base64url text the CA gave (padding tolerated).
  public init(keyID: String, macKey: String) throws(ACMEError) {
    guard let decoded = Base64URL.decode(macKey), !decoded.isEmpty else {
      throw ACMEError(.invalidInput, "the EAB HMAC key is not base64url")
    }
    self.keyID = keyID
    self.macKey = decoded
  }
}
