internal import COpenSSL
import Foundation

/// The facts ACME needs from the first certificate of a PEM chain: validity, names, serial and the
/// RFC 9773 certificate identifier used for renewal information and `replaces`.
public struct ACMELeafCertificate: Sendable, Hashable {
  public let der: [UInt8]
  public let notBefore: Date
  public let notAfter: Date
  /// dNSNames (lower-cased) and iPAddresses (canonical text) from subjectAltName.
  public let names: [String]
  /// The serial number as it is DER-encoded (two's complement, minimal, no tag or length).
  public let serialNumber: [UInt8]
  /// The authorityKeyIdentifier's keyIdentifier, when the extension is there.
  public let authorityKeyIdentifier: [UInt8]?

  /// Parses the first `CERTIFICATE` block of `chainPEM`.
  public init(chainPEM: String) throws(ACMEError) {
    guard let certificate = PEM.readFirst(chainPEM, { PEM_read_bio_X509($0, nil, nil, nil) }) else {
      throw ACMEError(.invalidInput, "no certificate in the PEM text")
    }
    defer { X509_free(certificate) }
    der = try PEM.der("i2d_X509") { i2d_X509(certificate, $0) }
    notBefore = try Self.date(X509_get0_notBefore(certificate))
    notAfter = try Self.date(X509_get0_notAfter(certificate))
    names = Self.subjectAlternativeNames(certificate)
    serialNumber = try Self.integerContents(X509_get0_serialNumber(certificate))
    authorityKeyIdentifier = X509_get0_authority_key_id(certificate).map { Self.bytes($0) }
    _ = drainOpenSSLErrors()
  }

  /// Serial number in hex (lower case, leading zero bytes dropped), as pebble's management API and
  /// `openssl x509 -serial` spell it (modulo case).
  public var serialHex: String {
    let significant = serialNumber.drop { $0 == 0 }
    return significant.isEmpty ? "0" : significant.map { String(format: "%02x", $0) }.joined()
  }

  /// RFC 9773 §4.1: base64url(keyIdentifier) "." base64url(serial DER contents). Nil without an AKI
  /// keyIdentifier (then the CA cannot be asked about this certificate).
  public var renewalCertificateID: String? {
    guard let authorityKeyIdentifier else { return nil }
    return Self.renewalCertificateID(authorityKeyIdentifier: authorityKeyIdentifier, serialNumber: serialNumber)
  }

  static func renewalCertificateID(authorityKeyIdentifier: [UInt8], serialNumber: [UInt8]) -> String {
    "\(Base64URL.encode(authorityKeyIdentifier)).\(Base64URL.encode(serialNumber))"
  }

  /// An ASN.1 UTCTime or GeneralizedTime as a `Date` (also used for OCSP's times).
  static func date(_ time: UnsafePointer<ASN1_TIME>?) throws(ACMEError) -> Date {
    var parts = tm()
    guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { throw cryptoError("ASN1_TIME_to_tm") }
    return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
  }

  private static func bytes(_ string: UnsafePointer<ASN1_STRING>) -> [UInt8] {
    guard let data = ASN1_STRING_get0_data(string) else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
  }

  /// The contents octets of an INTEGER's DER encoding (its tag and length stripped).
  private static func integerContents(_ integer: UnsafePointer<ASN1_INTEGER>?) throws(ACMEError) -> [UInt8] {
    guard let integer else { throw ACMEError(.crypto, "certificate has no serial number") }
    let encoded = try PEM.der("i2d_ASN1_INTEGER") { i2d_ASN1_INTEGER(integer, $0) }
    guard encoded.count >= 3, encoded[0] == 0x02 else { throw ACMEError(.crypto, "serial is not a DER INTEGER") }
    let lengthByte = Int(encoded[1])
    let header = lengthByte < 0x80 ? 2 : 2 + (lengthByte & 0x7f)
    guard header < encoded.count else { throw ACMEError(.crypto, "serial is not a DER INTEGER") }
    return Array(encoded[header...])
  }

  private static func subjectAlternativeNames(_ certificate: OpaquePointer) -> [String] {
    guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
    let names = OpaquePointer(raw)
    defer { GENERAL_NAMES_free(names) }
    var result: [String] = []
    for index in 0..<OPENSSL_sk_num(names) {
      guard let entry = OPENSSL_sk_value(names, index)?.assumingMemoryBound(to: GENERAL_NAME.self) else { continue }
      switch entry.pointee.type {
      case GEN_DNS:
        if let string = entry.pointee.d.dNSName {
          result.append(String(decoding: bytes(string), as: UTF8.self).lowercased())
        }
      case GEN_IPADD:
        if let string = entry.pointee.d.iPAddress, let text = ipText(bytes(string)) { result.append(text) }
      default:
        continue
      }
    }
    return result
  }

  private static func ipText(_ raw: [UInt8]) -> String? {
    guard raw.count == 4 || raw.count == 16 else { return nil }
    var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    guard inet_ntop(raw.count == 4 ? AF_INET : AF_INET6, raw, &output, socklen_t(output.count)) != nil else {
      return nil
    }
    return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
