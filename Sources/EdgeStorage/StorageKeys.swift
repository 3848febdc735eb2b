import Foundation

/// Where edge keeps things in a `CertificateStorage`. The certificate files are the ones
/// `FileCertificateSource` (EdgeTLS) reads from `<storage>/certificates`:
///
///     certificates/<name>.crt              chain PEM, leaf first
///     certificates/<name>.key              private key PEM (secret)
///     certificates/<name>.json             CertificateMetadata
///     acme/<ca>/accounts/<email>.key       ACME account key (secret)
///     acme/<ca>/accounts/<email>.json      ACME account (its URL, contacts)
///
/// `<name>` is the certificate's name lower-cased, with a wildcard's `*` spelled `wildcard_`
/// (`*.example.com` → `wildcard_.example.com`, as Caddy does) so no file name needs quoting in a shell.
/// `<ca>` is the directory URL's host, port and path (`acme-v02.api.letsencrypt.org-directory`), `<email>`
/// the account's address, or `default` without one.
public enum StorageKeys {
  public static let certificatesPrefix = "certificates"
  public static let acmePrefix = "acme"

  /// The file-name form of a certificate name: lower-cased, a leading `*.` as `wildcard_.`, and `/` or NUL
  /// (never in a host name) as `_`. An ordinary host name is unchanged, so it is also the server name
  /// `FileCertificateSource` looks up.
  public static func certificateName(_ name: String) -> String {
    var name = name.lowercased()
    if name.hasPrefix("*.") { name = "wildcard_" + name.dropFirst() }
    if name.hasPrefix(".") { name = "_" + name.dropFirst() }
    return String(String.UnicodeScalarView(name.unicodeScalars.map { $0 == "/" || $0 == "\0" ? "_" : $0 }))
  }

  public static func certificate(_ name: String) -> String {
    certificatesPrefix + "/" + certificateName(name) + ".crt"
  }

  public static func privateKey(_ name: String) -> String {
    certificatesPrefix + "/" + certificateName(name) + ".key"
  }

  public static func metadata(_ name: String) -> String {
    certificatesPrefix + "/" + certificateName(name) + ".json"
  }

  /// The lock to hold while obtaining, renewing or revoking the certificate for `name`, so one node at a
  /// time works on it.
  public static func certificateLock(_ name: String) -> String {
    "certificate:" + certificateName(name)
  }

  /// A pending HTTP-01 answer (`acme/challenges/<token>`): the key authorization, so any process sharing
  /// the storage answers the CA's validation, whichever of them ordered the certificate.
  public static func challengeToken(_ token: String) -> String {
    acmePrefix + "/challenges/" + safeSegment(token)
  }

  /// A pending TLS-ALPN-01 answer for `name` (`acme/challenges/tls-alpn-01/<name>.crt` and `.key`): the
  /// validation certificate, so any process or node sharing storage can present it.
  public static func tlsALPNChallenge(_ name: String) -> (certificate: String, key: String) {
    let base = acmePrefix + "/challenges/tls-alpn-01/" + certificateName(name)
    return (base + ".crt", base + ".key")
  }

  /// `acme/<ca>`: everything kept for one ACME directory URL.
  public static func acmeDirectory(_ directoryURL: String) -> String {
    acmePrefix + "/" + caName(directoryURL)
  }

  public static func accountKey(directoryURL: String, email: String?) -> String {
    acmeDirectory(directoryURL) + "/accounts/" + accountName(email) + ".key"
  }

  public static func accountMetadata(directoryURL: String, email: String?) -> String {
    acmeDirectory(directoryURL) + "/accounts/" + accountName(email) + ".json"
  }

  /// The CA part of ACME keys: the URL without its scheme, query or fragment, with `/` and `:` as `-`
  /// (`https://ca.example:14000/dir` → `ca.example-14000-dir`).
  public static func caName(_ directoryURL: String) -> String {
    var rest = Substring(directoryURL.lowercased())
    if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
    if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
    while rest.hasSuffix("/") { rest = rest.dropLast() }
    return safeSegment(rest.replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: ":", with: "-"))
  }

  /// The account part of ACME keys: the address lower-cased (`+` as `_plus_`), or `default`.
  public static func accountName(_ email: String?) -> String {
    let email = (email ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    return email.isEmpty ? "default" : safeSegment(email.replacingOccurrences(of: "+", with: "_plus_"))
  }

  /// `text` as one valid key segment: characters other than letters, digits, `.`, `-`, `_` and `@` as `_`,
  /// no leading dot, no `..`, at most 200 bytes, and `default` when nothing is left.
  static func safeSegment(_ text: String) -> String {
    var safe = String(
      String.UnicodeScalarView(
        text.unicodeScalars.map { scalar in
          scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-_@".unicodeScalars.contains(scalar))
            ? scalar : "_"
        }))
    while safe.contains("..") { safe = safe.replacingOccurrences(of: "..", with: ".") }
    while safe.hasPrefix(".") { safe.removeFirst() }
    if safe.utf8.count > StorageKey.maxSegmentBytes { safe = String(safe.utf8.prefix(StorageKey.maxSegmentBytes))! }
    return safe.isEmpty ? "default" : safe
  }
}
