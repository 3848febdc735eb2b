import Foundation
import Testing

@testable import EdgeTLS

@Suite("local CA: OpenSSL wrappers")
struct LocalCAWrapperTests {
  @Test("a P-256 key survives a PEM round trip and matches only its own certificate")
  func keyRoundTrip() throws {
    let key = try PrivateKey.generateP256()
    let again = try PrivateKey(pem: key.pem())
    #expect(try again.pem() == key.pem())
    let now = unixNow()
    let profile = CertificateProfile(role: .authority(pathLength: 0), commonName: "t", organization: "o", notBefore: now, notAfter: now + 60)
    let certificate = try X509Certificate.sign(profile, subjectKey: key, issuer: nil, issuerKey: key)
    #expect(again.matches(certificate))
    #expect(!(try PrivateKey.generateP256().matches(certificate)))
    #expect(certificate.isSigned(by: key))
    #expect(certificate.isCA)
    #expect(certificate.subjectOrganization == "o")
    #expect(certificate.notBefore == now && certificate.notAfter == now + 60)
    let parsed = try X509Certificate(pem: certificate.pem())
    #expect(try parsed.fingerprintSHA256() == certificate.fingerprintSHA256())
  }

  @Test("an encrypted key is an error, not a passphrase prompt")
  func encryptedKeyRefused() throws {
    let scratch = try ScratchDirectory()
    let path = "\(scratch.path)/encrypted.key"
    let made = try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:secret", "-out", path])
    #expect(made.status == 0, "\(made.output)")
    let pem = try String(contentsOfFile: path, encoding: .utf8)
    #expect(throws: OpenSSLError.self) { try PrivateKey(pem: pem) }
  }

  @Test("garbage is an OpenSSL error that names the call")
  func garbage() {
    do {
      _ = try X509Certificate(pem: "hello")
      Issue.record("parsed garbage")
    } catch {
      #expect(error.call == "PEM_read_bio_X509")
      #expect(!error.details.isEmpty)
    }
  }

  @Test("serials are random, positive and exactly 128 bits long")
  func serials() throws {
    let key = try PrivateKey.generateP256()
    let now = unixNow()
    let profile = CertificateProfile(role: .server, commonName: "s", organization: nil, notBefore: now, notAfter: now + 60, names: [.dns("s")])
    let scratch = try ScratchDirectory()
    var serials: Set<String> = []
    for index in 0..<4 {
      let path = "\(scratch.path)/\(index).crt"
      try X509Certificate.sign(profile, subjectKey: key, issuer: nil, issuerKey: key).pem().write(toFile: path, atomically: false, encoding: .utf8)
      let serial = try openssl(["x509", "-in", path, "-noout", "-serial"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(serial.hasPrefix("serial="))
      #expect(serial.count - "serial=".count == 32, "\(serial)")
      serials.insert(serial)
    }
    #expect(serials.count == 4)
  }

  @Test("site names are classified", arguments: [
    ("localhost", SubjectAlternativeName.dns("localhost")),
    ("127.0.0.1", .ipAddress("127.0.0.1")),
    ("::1", .ipAddress("::1")),
    ("[::1]", .ipAddress("::1")),
    ("0:0:0:0:0:0:0:1", .ipAddress("::1")),
    ("*.app.internal", .dns("*.app.internal")),
    ("under_score.internal", .dns("under_score.internal")),
  ])
  func classifies(_ name: String, _ expected: SubjectAlternativeName) {
    #expect(SubjectAlternativeName(name) == expected)
  }
}
