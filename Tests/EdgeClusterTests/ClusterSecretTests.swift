import EdgeCluster
import Foundation
import Testing

@Suite struct ClusterSecretTests {
  let secret = try! ClusterSecret(Array("a cluster secret of well over thirty-two bytes".utf8))

  @Test func sealedKeysOpenOnlyUnderTheirName() throws {
    let key = Array("-----BEGIN PRIVATE KEY-----\nMIGH…\n-----END PRIVATE KEY-----\n".utf8)
    let sealed = try secret.seal(key, name: "certificates/a.test.key")
    #expect(sealed.count == 1 + 12 + key.count + 16)
    #expect(!sealed.contains(subsequence: Array("PRIVATE KEY".utf8)))
    #expect(try secret.open(sealed, name: "certificates/a.test.key") == key)
    #expect(throws: ClusterSecret.Failure.cannotOpen) { try secret.open(sealed, name: "certificates/b.test.key") }
    // A fresh nonce each time: sealing twice never gives the same bytes.
    #expect(try secret.seal(key, name: "k") != secret.seal(key, name: "k"))
  }

  @Test func tamperingAndAnotherSecretAreRefused() throws {
    let sealed = try secret.seal(Array("secret".utf8), name: "k")
    for index in [0, 5, sealed.count / 2, sealed.count - 1] {
      var changed = sealed
      changed[index] ^= 0x01
      #expect(throws: ClusterSecret.Failure.self) { try secret.open(changed, name: "k") }
    }
    let other = try ClusterSecret(Array("another cluster's secret, also long enough......".utf8))
    #expect(throws: ClusterSecret.Failure.cannotOpen) { try other.open(sealed, name: "k") }
    #expect(throws: ClusterSecret.Failure.cannotOpen) { try secret.open(Array(sealed.prefix(20)), name: "k") }
  }

  @Test func eventsAreSignedAndChecked() throws {
    let event = Array(#"{"type":"cert.issued","name":"a.test","version":3}"#.utf8)
    let signature = try secret.sign(event)
    #expect(secret.verify(event, signature: signature))
    #expect(!secret.verify(event + [0x20], signature: signature))
    let other = try ClusterSecret(Array("another cluster's secret, also long enough......".utf8))
    #expect(!other.verify(event, signature: signature))
    #expect(!secret.verify(event, signature: Array(signature.prefix(31))))
  }

  @Test func shortSecretsAreRefused() {
    #expect(throws: ClusterSecret.Failure.tooShort(5)) { try ClusterSecret(Array("short".utf8)) }
  }

  /// RFC 5869 test case 3 (SHA-256, no salt, no info) checks the derivation itself.
  @Test func hkdfMatchesTheRFCVector() throws {
    let ikm = [UInt8](repeating: 0x0b, count: 22)
    let okm = try ClusterSecret.testHKDF(ikm, info: "")
    #expect(okm.map { String(format: "%02x", $0) }.joined() == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d")
  }
}

extension Array where Element == UInt8 {
  func contains(subsequence: [UInt8]) -> Bool {
    guard subsequence.count <= count else { return false }
    return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
  }
}
