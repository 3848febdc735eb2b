internal import COpenSSL
import Glibc

extension CertifiedKey {
  /// DNS names (lower-cased) and IP addresses (textual) from the subjectAltName extension.
  static func subjectAlternativeNames(of certificate: OpaquePointer) -> [String] {
    guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return [] }
    let names = OpaquePointer(raw)
    defer { GENERAL_NAMES_free(names) }
    var result: [String] = []
    for index in 0..<OPENSSL_sk_num(names) {
      let name = OPENSSL_sk_value(names, index)!.assumingMemoryBound(to: GENERAL_NAME.self)
      switch name.pointee.type {
      case GEN_DNS:
        if let text = string(name.pointee.d.dNSName) { result.append(text.lowercased()) }
      case GEN_IPADD:
        if let text = ipAddress(name.pointee.d.iPAddress) { result.append(text) }
      default:
        continue
      }
    }
    return result
  }

  private static func bytes(_ string: UnsafeMutablePointer<ASN1_STRING>?) -> UnsafeRawBufferPointer? {
    guard let string, let data = ASN1_STRING_get0_data(string) else { return nil }
    return UnsafeRawBufferPointer(start: data, count: Int(ASN1_STRING_length(string)))
  }

  private static func string(_ asn1: UnsafeMutablePointer<ASN1_STRING>?) -> String? {
    bytes(asn1).map { String(decoding: $0, as: UTF8.self) }
  }

  private static func ipAddress(_ asn1: UnsafeMutablePointer<ASN1_STRING>?) -> String? {
    guard let raw = bytes(asn1), raw.count == 4 || raw.count == 16 else { return nil }
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let family = raw.count == 4 ? AF_INET : AF_INET6
    guard inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) != nil else { return nil }
    return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  /// The leaf's notAfter as seconds since the epoch (0 if OpenSSL cannot read it).
  static func notAfter(of certificate: OpaquePointer) -> Int {
    var time = tm()
    guard let notAfter = X509_get0_notAfter(certificate), ASN1_TIME_to_tm(notAfter, &time) == 1 else { return 0 }
    return timegm(&time)
  }
}
