import Foundation
import Testing

@testable import EdgeACME

@Suite("certificates: the TLS-ALPN-01 certificate, leaf facts, ARI certID")
struct CertificateTests {
  @Test("the TLS-ALPN-01 certificate: SAN = the name, critical acmeIdentifier = OCTET STRING(SHA-256(keyAuth))")
  func tlsALPNCertificateStructure() async throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let keyAuthorization = "token-abc.thumbprint-xyz"
    let (certificatePEM, keyPEM) = try ACMETLSALPN01.challengeCertificate(
      identifier: "alpn.example.test", keyAuthorization: keyAuthorization)
    let certificate = try scratch.write("c.pem", certificatePEM)
    let key = try scratch.write("k.pem", keyPEM)

    let text = try await run("/usr/bin/openssl", ["x509", "-in", certificate.path, "-noout", "-text"]).output
    #expect(text.contains("DNS:alpn.example.test"))
    #expect(text.contains("1.3.6.1.5.5.7.1.31: critical"))
    #expect(text.contains("ecdsa-with-SHA256"))

    // The extension's value is the DER OCTET STRING (04 20 …) of the key authorization's digest.
    let parsed = try await run("/usr/bin/openssl", ["asn1parse", "-in", certificate.path]).output
    let lines = parsed.split(separator: "\n")
    let oid = try #require(lines.firstIndex { $0.contains(":1.3.6.1.5.5.7.1.31") })
    #expect(lines[oid + 1].contains("BOOLEAN") && lines[oid + 1].contains("255"))
    let digest = Digest.sha256(Array(keyAuthorization.utf8)).map { String(format: "%02X", $0) }.joined()
    #expect(lines[oid + 2].contains("OCTET STRING") && lines[oid + 2].hasSuffix("[HEX DUMP]:0420\(digest)"))

    // The key is the certificate's.
    let fromCertificate = try await run("/usr/bin/openssl", ["x509", "-in", certificate.path, "-noout", "-pubkey"]).output
    let fromKey = try await run("/usr/bin/openssl", ["pkey", "-in", key.path, "-pubout"]).output
    #expect(fromCertificate == fromKey)

    let leaf = try ACMELeafCertificate(chainPEM: certificatePEM)
    #expect(leaf.names == ["alpn.example.test"])
    #expect(leaf.notBefore < Date() && leaf.notAfter > Date().addingTimeInterval(6 * 86_400))
  }

  @Test("an IP identifier gets an iPAddress SAN in its TLS-ALPN-01 certificate (RFC 8738)")
  func tlsALPNCertificateForIP() throws {
    let (certificatePEM, _) = try ACMETLSALPN01.challengeCertificate(identifier: "192.0.2.9", keyAuthorization: "a.b")
    #expect(try ACMELeafCertificate(chainPEM: certificatePEM).names == ["192.0.2.9"])
  }

  @Test("RFC 9773 §4.1's example certID")
  func renewalCertificateIDExample() {
    let keyIdentifier: [UInt8] = [
      0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4,
    ]
    let id = ACMELeafCertificate.renewalCertificateID(
      authorityKeyIdentifier: keyIdentifier, serialNumber: [0x00, 0x87, 0x65, 0x43, 0x21])
    #expect(id == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
  }

  @Test("leaf facts and certID from an openssl-made certificate (serial with its high bit set)")
  func leafFromOpenSSL() async throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let file = try await makeCertificate(in: scratch, serial: "0x87654321", names: "DNS:A.example.test,IP:2001:db8::1")
    let pem = try String(contentsOf: file, encoding: .utf8)
    let leaf = try ACMELeafCertificate(chainPEM: pem + pem)  // only the first block counts
    #expect(leaf.serialNumber == [0x00, 0x87, 0x65, 0x43, 0x21])
    #expect(leaf.serialHex == "87654321")
    #expect(leaf.names == ["a.example.test", "2001:db8::1"])
    let keyIdentifier = try await authorityKeyIdentifier(of: file)
    #expect(leaf.authorityKeyIdentifier == keyIdentifier)
    #expect(leaf.renewalCertificateID == "\(Base64URL.encode(keyIdentifier)).AIdlQyE")
    #expect(abs(leaf.notAfter.timeIntervalSince(leaf.notBefore) - 3 * 86_400) < 2)
    #expect(throws: ACMEError.self) { try ACMELeafCertificate(chainPEM: "no pem here") }
  }

  @Test("identifiers: DNS names lower-cased, IPs canonical, junk refused")
  func identifiers() throws {
    #expect(try ACMEIdentifier(name: "WWW.Example.Test") == ACMEIdentifier(type: "dns", value: "www.example.test"))
    #expect(try ACMEIdentifier(name: "*.example.test").type == "dns")
    #expect(try ACMEIdentifier(name: "2001:DB8:0::1") == ACMEIdentifier(type: "ip", value: "2001:db8::1"))
    for bad in ["", "a..b", "-a.test", "a b.test", "a,b.test", "*.*.test", "x.*.test"] {
      #expect(throws: ACMEError.self, "\(bad)") { try ACMEIdentifier(name: bad) }
    }
  }
}

/// A self-signed certificate from the openssl CLI (which adds SKI and AKI), valid for 3 days.
func makeCertificate(in scratch: ScratchDirectory, serial: String, names: String) async throws -> URL {
  let file = scratch.file("cert-\(UUID().uuidString).pem")
  let made = try await run(
    "/usr/bin/openssl",
    [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "3", "-subj", "/CN=t",
      "-set_serial", serial, "-addext", "subjectAltName=\(names)", "-keyout", scratch.file("k-\(UUID().uuidString).pem").path,
      "-out", file.path,
    ])
  guard made.status == 0 else { throw TestFailure("openssl req: \(made.output)") }
  return file
}

/// The AKI keyIdentifier as `openssl x509 -ext authorityKeyIdentifier` prints it.
func authorityKeyIdentifier(of file: URL) async throws -> [UInt8] {
  let text = try await run("/usr/bin/openssl", ["x509", "-in", file.path, "-noout", "-ext", "authorityKeyIdentifier"]).output
  let hex = text.split(separator: "\n").dropFirst().joined().replacingOccurrences(of: "keyid:", with: "")
    .trimmingCharacters(in: .whitespaces).split(separator: ":")
  let bytes = hex.compactMap { UInt8($0.trimmingCharacters(in: .whitespaces), radix: 16) }
  guard bytes.count >= 20 else { throw TestFailure("no AKI in: \(text)") }
  return Array(bytes.prefix(20))
}
