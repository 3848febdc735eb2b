import Foundation
import Testing

@testable import EdgeACME

@Suite("revocation and alternate chains against pebble")
struct RevocationTests {
  @Test("revoke by account, then by certificate key; pebble reports both revoked; a second revoke is alreadyRevoked")
  func revoke() async throws {
    let options = PebbleOptions(environment: ["PEBBLE_VA_ALWAYS_VALID": "1"])
    try await withPebble(options) { pebble in
      let client = try pebble.client()
      let key = try CertificateKey.generateP256()
      let first = try await client.obtain(names: ["r1.test"], csrDER: try key.csr(names: ["r1.test"]), solvers: [NoOpSolver()])
      let second = try await client.obtain(names: ["r2.test"], csrDER: try key.csr(names: ["r2.test"]), solvers: [NoOpSolver()])

      try await client.revoke(certificatePEM: first.chainPEM, reason: .keyCompromise)
      // Signed with the certificate's key (jwk), by a client whose account never saw it.
      try await pebble.client().revoke(certificatePEM: second.chainPEM, reason: .superseded, certificateKeyPEM: key.pem)

      for certificate in [first, second] {
        let serial = try ACMELeafCertificate(chainPEM: certificate.chainPEM).serialHex
        let status = try await pebble.management("cert-status-by-serial/\(serial)")
        #expect(status.status == 200 && status.body.contains("Revoked"), "\(status)")
      }
      let error = await #expect(throws: ACMEError.self) { try await client.revoke(certificatePEM: first.chainPEM) }
      #expect(error?.problem?.isACMEError("alreadyRevoked") == true, "\(String(describing: error))")
    }
  }

  @Test("alternate chains are listed and downloadable (PEBBLE_ALTERNATE_ROOTS=1)")
  func alternates() async throws {
    let options = PebbleOptions(environment: ["PEBBLE_VA_ALWAYS_VALID": "1", "PEBBLE_ALTERNATE_ROOTS": "1"])
    try await withPebble(options) { pebble in
      let client = try pebble.client()
      let names = ["alt.test"]
      let certificate = try await client.obtain(
        names: names, csrDER: try CertificateKey.generateP256().csr(names: names), solvers: [NoOpSolver()])
      #expect(certificate.alternates.count == 1)
      let alternate = try await client.downloadCertificate(url: try #require(certificate.alternates.first))
      #expect(pemBlocks(alternate.chainPEM).first == pemBlocks(certificate.chainPEM).first)
      #expect(alternate.chainPEM != certificate.chainPEM)
      try await verifyChain(certificate.chainPEM, rootPEM: try await pebble.rootPEM(0), in: pebble.scratch)
      try await verifyChain(alternate.chainPEM, rootPEM: try await pebble.rootPEM(1), in: pebble.scratch)
    }
  }
}
