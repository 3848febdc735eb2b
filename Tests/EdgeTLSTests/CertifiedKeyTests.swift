import Foundation
import Testing
@testable import EdgeTLS

@Suite("certified keys") struct CertifiedKeyTests {
  let certificates = TestCertificates.shared

  @Test("names are the DNS and IP SANs, lower-case") func names() throws {
    let key = try certificates.key("a.test")
    #expect(key.names == ["a.test", "www.a.test", "127.0.0.1", "::1"])
    #expect(try certificates.key("*.wild.test").names == ["*.wild.test"])
  }

  @Test("notAfter is about 30 days away") func notAfter() throws {
    let key = try certificates.key("b.test")
    let days = Double(key.notAfter - Int(Date().timeIntervalSince1970)) / 86_400
    #expect(days > 29.9 && days <= 30.01)
  }

  @Test("a key that belongs to another certificate is refused") func mismatch() throws {
    let a = certificates.pem("a.test")
    let b = certificates.pem("b.test")
    let error = #expect(throws: CertificateError.self) { try CertifiedKey(chainPEM: a.chain, keyPEM: b.key) }
    #expect(error?.reason == .keyMismatch)
    #expect(error?.description == "loading certificate: key does not match certificate")
  }

  @Test("missing or broken PEM is refused with a reason") func broken() throws {
    let a = certificates.pem("a.test")
    #expect(throws: CertificateError(.noCertificate)) { try CertifiedKey(chainPEM: "hello", keyPEM: a.key) }
    #expect(throws: CertificateError(.noPrivateKey)) { try CertifiedKey(chainPEM: a.chain, keyPEM: a.chain) }
    let truncated = a.chain + "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    let error = #expect(throws: CertificateError.self) { try CertifiedKey(chainPEM: truncated, keyPEM: a.key) }
    guard case .malformed = error?.reason else {
      Issue.record("expected malformed, got \(String(describing: error))")
      return
    }
  }

  @Test("loads from files, naming the file in errors") func files() throws {
    let key = try CertifiedKey(
      certificateFile: certificates.path("chain.test", "crt"), keyFile: certificates.path("chain.test", "key"))
    #expect(key.names == ["chain.test"])
    let missing = certificates.path("missing", "crt")
    let error = #expect(throws: CertificateError.self) {
      try CertifiedKey(certificateFile: missing, keyFile: missing)
    }
    #expect(error?.description.hasPrefix("loading certificate \(missing): unreadable") == true)
  }
}
