/// Key authorizations (RFC 8555 §8.1) and the values derived from them for each challenge type.
public enum ACMEKeyAuthorization {
  /// `token "." thumbprint(accountKey)`: the body HTTP-01 serves and the input of the other two.
  public static func make(token: String, accountKey: ACMEAccountKey) -> String {
    "\(token).\(accountKey.thumbprint)"
  }

  /// The TXT record value for DNS-01 at `_acme-challenge.<domain>` (RFC 8555 §8.4):
  /// base64url(SHA-256(keyAuthorization)).
  public static func dns01Value(_ keyAuthorization: String) -> String {
    Base64URL.encode(Digest.sha256(Array(keyAuthorization.utf8)))
  }

  /// The DNS name DNS-01 publishes its TXT record under (`*.` of a wildcard dropped, RFC 8555 §8.4).
  public static func dns01RecordName(for identifier: String) -> String {
    let base = identifier.hasPrefix("*.") ? String(identifier.dropFirst(2)) : identifier
    return "_acme-challenge.\(base)"
  }

  /// The path HTTP-01 serves the key authorization at (RFC 8555 §8.3).
  public static func http01Path(token: String) -> String { "/.well-known/acme-challenge/\(token)" }
}
