import Foundation
import Testing

@testable import EdgeACME

@Suite("crypto: keys, JWS, CSR, key authorizations")
struct CryptoTests {
  @Test("base64url matches RFC 4648 §10's vectors, without padding, and round-trips", arguments: [
    ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
  ])
  func base64url(_ plain: String, _ encoded: String) {
    #expect(Base64URL.encode(plain) == encoded)
    #expect(Base64URL.decode(encoded) == Array(plain.utf8))
  }

  @Test("base64url uses - and _ and rejects other characters")
  func base64urlAlphabet() {
    #expect(Base64URL.encode([0xfb, 0xff, 0xbf]) == "-_-_")
    #expect(Base64URL.decode("-_-_") == [0xfb, 0xff, 0xbf])
    #expect(Base64URL.decode("ab$d") == nil)
    #expect(Base64URL.decode("a") == nil)
  }

  @Test("an account key survives PEM (PKCS#8) and keeps its JWK and thumbprint")
  func accountKeyRoundTrip() throws {
    let key = try ACMEAccountKey.generate()
    let pem = try key.pem()
    #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    let again = try ACMEAccountKey(pem: pem)
    #expect(again == key)
    #expect(again.thumbprint == key.thumbprint)
    #expect(key.jwk.x.count == 43 && key.jwk.y.count == 43)
    #expect(key.jwk.canonicalJSON == #"{"crv":"P-256","kty":"EC","x":"\#(key.jwk.x)","y":"\#(key.jwk.y)"}"#)
  }

  @Test("the thumbprint is SHA-256 of the canonical JWK, as openssl computes it")
  func thumbprintMatchesOpenSSL() async throws {
    let key = try ACMEAccountKey.generate()
    let hex = try await run("/usr/bin/openssl", ["dgst", "-sha256", "-hex", "-r"], input: key.jwk.canonicalJSON).output
    let bytes = stride(from: 0, to: 64, by: 2).map { offset -> UInt8 in
      let start = hex.index(hex.startIndex, offsetBy: offset)
      return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
    }
    #expect(key.thumbprint == Base64URL.encode(bytes))
  }

  @Test("a key on another curve, or not EC, is refused with a reason")
  func refusesOtherKeys() async throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let p384 = scratch.file("p384.pem")
    try await run("/usr/bin/openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", p384.path])
    let error = #expect(throws: ACMEError.self) { try ACMEAccountKey(pem: String(contentsOf: p384, encoding: .utf8)) }
    #expect(error?.kind == .invalidInput)
    #expect(error?.description.contains("P-256") == true)
  }

  @Test("ES256 signatures are 64 raw bytes that openssl verifies (after re-encoding as DER)")
  func es256VerifiesWithOpenSSL() async throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let key = try ACMEAccountKey.generate()
    let message = Array("eyJhbGciOiJFUzI1NiJ9.e30".utf8)
    let signature = try key.sign(message)
    #expect(signature.count == 64)
    let der = derSignature(r: Array(signature[0..<32]), s: Array(signature[32..<64]))
    let keyFile = try scratch.write("key.pem", key.pem())
    let publicFile = scratch.file("pub.pem")
    try await run("/usr/bin/openssl", ["pkey", "-in", keyFile.path, "-pubout", "-out", publicFile.path])
    try Data(der).write(to: scratch.file("sig.der"))
    try Data(message).write(to: scratch.file("msg"))
    let verified = try await run(
      "/usr/bin/openssl",
      ["dgst", "-sha256", "-verify", publicFile.path, "-signature", scratch.file("sig.der").path, scratch.file("msg").path])
    #expect(verified.output.contains("Verified OK"), "\(verified.output)")
  }

  @Test("an EAB is HS256 over the account JWK with the CA's kid and the newAccount URL")
  func externalAccountBinding() throws {
    let key = try ACMEAccountKey.generate()
    let binding = try ACMEExternalAccountBinding(keyID: "kid-1", macKey: pebbleEABMACKey)
    let jws = try JWS.externalAccountBinding(binding, accountKey: key, url: "https://ca.test/new-account")
    let header = try #require(Base64URL.decode(jws.protected))
    let fields = try #require(try JSONSerialization.jsonObject(with: Data(header)) as? [String: String])
    #expect(fields == ["alg": "HS256", "kid": "kid-1", "url": "https://ca.test/new-account"])
    #expect(Base64URL.decode(jws.payload) == Array(key.jwk.canonicalJSON.utf8))
    let mac = Digest.hmacSHA256(key: Base64URL.decode(pebbleEABMACKey)!, Array("\(jws.protected).\(jws.payload)".utf8))
    #expect(jws.signature == Base64URL.encode(mac))
    #expect(throws: ACMEError.self) { try ACMEExternalAccountBinding(keyID: "k", macKey: "not base64url!") }
  }

  @Test("HMAC-SHA256 matches RFC 4231 test case 2")
  func hmacVector() {
    let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
    #expect(mac.map { String(format: "%02x", $0) }.joined() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  }

  @Test("key authorization and the DNS-01 value (base64url SHA-256, as openssl computes it)")
  func keyAuthorization() async throws {
    let key = try ACMEAccountKey.generate()
    let keyAuthorization = ACMEKeyAuthorization.make(token: "tok_en-1", accountKey: key)
    #expect(keyAuthorization == "tok_en-1.\(key.thumbprint)")
    let hex = try await run("/usr/bin/openssl", ["dgst", "-sha256", "-hex", "-r"], input: keyAuthorization).output
    let bytes = stride(from: 0, to: 64, by: 2).map { offset -> UInt8 in
      let start = hex.index(hex.startIndex, offsetBy: offset)
      return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
    }
    #expect(ACMEKeyAuthorization.dns01Value(keyAuthorization) == Base64URL.encode(bytes))
    #expect(ACMEKeyAuthorization.dns01RecordName(for: "*.a.test") == "_acme-challenge.a.test")
  }

  @Test("a CSR carries every name as a SAN, CN = the first name, and a valid SHA-256 signature")
  func csr() async throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let key = try CertificateKey.generateP256()
    let long = String(repeating: "a", count: 60) + ".example.test"
    let der = try key.csr(names: ["Www.Example.test", "*.example.test", "192.0.2.7", long])
    try Data(der).write(to: scratch.file("req.der"))
    let text = try await run("/usr/bin/openssl", ["req", "-inform", "DER", "-in", scratch.file("req.der").path, "-noout", "-text", "-verify"])
    #expect(text.output.contains("verify OK") || text.output.contains("Certificate request self-signature verify OK"))
    #expect(text.output.contains("Subject: CN = www.example.test"))
    #expect(text.output.contains("DNS:www.example.test, DNS:*.example.test, IP Address:192.0.2.7, DNS:\(long)"))
    #expect(text.output.contains("ecdsa-with-SHA256"))

    let longFirst = try key.csr(names: [long])
    try Data(longFirst).write(to: scratch.file("long.der"))
    let subject = try await run("/usr/bin/openssl", ["req", "-inform", "DER", "-in", scratch.file("long.der").path, "-noout", "-subject"])
    #expect(subject.output.trimmingCharacters(in: .whitespacesAndNewlines) == "subject=")
    #expect(throws: ACMEError.self) { try key.csr(names: ["bad name,DNS:evil.test"]) }
  }

  @Test("certificate keys are P-256 PKCS#8 PEM and reload")
  func certificateKey() throws {
    let key = try CertificateKey.generateP256()
    #expect(key.pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    #expect(try CertificateKey(pem: key.pem) == key)
  }

  /// ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, for signatures of at most 2×33 bytes.
  private func derSignature(r: [UInt8], s: [UInt8]) -> [UInt8] {
    func integer(_ bytes: [UInt8]) -> [UInt8] {
      var trimmed = Array(bytes.drop { $0 == 0 })
      if trimmed.isEmpty || trimmed[0] & 0x80 != 0 { trimmed.insert(0, at: 0) }
      return [0x02, UInt8(trimmed.count)] + trimmed
    }
    let body = integer(r) + integer(s)
    return [0x30, UInt8(body.count)] + body
  }
}
