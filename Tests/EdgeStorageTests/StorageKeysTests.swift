import Foundation
import Testing
@testable import EdgeStorage

@Suite("StorageKeys")
struct StorageKeysTests {
  @Test("certificates sit where FileCertificateSource reads them; wildcards as wildcard_")
  func certificateKeys() {
    #expect(StorageKeys.certificate("A.Example.com") == "certificates/a.example.com.crt")
    #expect(StorageKeys.privateKey("a.example.com") == "certificates/a.example.com.key")
    #expect(StorageKeys.metadata("a.example.com") == "certificates/a.example.com.json")
    #expect(StorageKeys.certificate("*.example.com") == "certificates/wildcard_.example.com.crt")
    #expect(StorageKeys.certificate("192.0.2.1") == "certificates/192.0.2.1.crt")
    #expect(StorageKeys.certificateLock("*.Example.com") == "certificate:wildcard_.example.com")
    for name in ["a.example.com", "*.example.com", "a/../b", ".hidden", "::1"] {
      #expect(StorageKey.isValid(StorageKeys.certificate(name)), "\(name)")
    }
  }

  @Test("ACME accounts are kept per CA (host, port, path) and per email")
  func accountKeys() {
    let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
    #expect(StorageKeys.accountKey(directoryURL: letsEncrypt, email: nil) == "acme/acme-v02.api.letsencrypt.org-directory/accounts/default.key")
    #expect(
      StorageKeys.accountMetadata(directoryURL: letsEncrypt, email: "Ops+edge@Example.com")
        == "acme/acme-v02.api.letsencrypt.org-directory/accounts/ops_plus_edge@example.com.json")
    #expect(StorageKeys.caName("https://localhost:14000/dir/?x=1") == "localhost-14000-dir")
    #expect(StorageKeys.caName("https://../../etc") == "-.-etc")  // one harmless segment
    #expect(StorageKeys.accountName("  ") == "default")
    for url in [letsEncrypt, "https://../..", "weird://a b/c", ""] {
      #expect(StorageKey.isValid(StorageKeys.accountKey(directoryURL: url, email: "../x")), "\(url)")
    }
  }

  @Test("certificate metadata round-trips through its JSON form with snake_case keys")
  func metadata() throws {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let metadata = CertificateMetadata(
      issuer: "https://acme.example/dir", names: ["a.example", "*.a.example"], notBefore: now,
      notAfter: now + 90 * 86400,
      ari: .init(windowStart: now + 60 * 86400, windowEnd: now + 62 * 86400, retryAfter: now + 3600),
      obtainedAt: now, renewals: 2, lastError: "timeout", lastErrorAt: now)
    let bytes = try metadata.encoded()
    #expect(try CertificateMetadata.decode(bytes) == metadata)
    let json = String(decoding: bytes, as: UTF8.self)
    for key in ["issuer_url", "not_before", "not_after", "window_start", "retry_after", "obtained_at", "last_error"] {
      #expect(json.contains("\"\(key)\""), "\(key)")
    }
    #expect(json.contains("2027-01-15T08:00:00Z"))
  }
}
