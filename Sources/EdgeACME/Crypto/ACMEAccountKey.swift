/// The key that identifies an ACME account: EC P-256, signing with ES256. A plain value (the private key
/// is held as PKCS#8 DER), so it can be stored, compared and sent across tasks freely.
public struct ACMEAccountKey: Sendable, Hashable {
  /// PrivateKeyInfo DER.
  let pkcs8: [UInt8]
  /// The public point's coordinates, 32 bytes each.
  let x: [UInt8]
  let y: [UInt8]

  private init(_ key: ECKey) throws(ACMEError) {
    pkcs8 = try key.pkcs8DER()
    (x, y) = try key.publicCoordinates()
  }

  /// A fresh random key.
  public static func generate() throws(ACMEError) -> ACMEAccountKey { try ACMEAccountKey(ECKey.generateP256()) }

  /// An unencrypted P-256 private key in PEM (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`).
  public init(pem: String) throws(ACMEError) { try self.init(ECKey(pem: pem)) }

  /// The key as unencrypted PKCS#8 PEM, to store next to the account URL.
  public func pem() throws(ACMEError) -> String { try ECKey(pkcs8DER: pkcs8).pem() }

  /// The public key as a JWK (RFC 7517), members in the order RFC 7638 hashes them.
  public var jwk: ACMEJWK { ACMEJWK(x: Base64URL.encode(x), y: Base64URL.encode(y)) }

  /// RFC 7638 thumbprint: base64url(SHA-256(the JWK's required members, sorted, no whitespace)).
  public var thumbprint: String { Base64URL.encode(Digest.sha256(Array(jwk.canonicalJSON.utf8))) }

  /// ES256 over `message` (the JWS signing input): 64 bytes, r || s.
  func sign(_ message: [UInt8]) throws(ACMEError) -> [UInt8] { try ECKey(pkcs8DER: pkcs8).signES256(message) }
}

/// An EC P-256 public key as a JSON Web Key.
public struct ACMEJWK: Sendable, Hashable, Encodable {
  public let crv = "P-256"
  public let kty = "EC"
  public let x: String
  public let y: String

  private enum CodingKeys: String, CodingKey { case crv, kty, x, y }

  /// `{"crv":"P-256","kty":"EC","x":"…","y":"…"}`: the RFC 7638 form (lexicographic member order, no
  /// whitespace). Written by hand because the thumbprint depends on the exact bytes.
  public var canonicalJSON: String { #"{"crv":"\#(crv)","kty":"\#(kty)","x":"\#(x)","y":"\#(y)"}"# }
}
