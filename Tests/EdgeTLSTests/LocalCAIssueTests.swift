import Foundation
import Testing

@testable import EdgeTLS

@Suite("local CA: issuing leaves")
struct LocalCAIssueTests {
  /// Issues for `names` and writes leaf.crt (leaf only), chain.pem and leaf.key next to the CA files.
  private func issue(_ names: [String], in scratch: ScratchDirectory, ca: LocalCA? = nil) throws
    -> (chainPEM: String, keyPEM: String, notAfter: Int)
  {
    let ca = try ca ?? LocalCA(directory: scratch.caDirectory)
    let issued = try ca.issue(for: names)
    let leafPEM = String(issued.chainPEM[..<issued.chainPEM.range(of: "-----END CERTIFICATE-----\n")!.upperBound])
    try scratch.write(leafPEM, to: "leaf.crt")
    try scratch.write(issued.chainPEM, to: "chain.pem")
    try scratch.write(issued.keyPEM, to: "leaf.key")
    return issued
  }

  @Test("a leaf for localhost, IPv4, IPv6 and an internal name verifies against the root")
  func leafVerifies() throws {
    let scratch = try ScratchDirectory()
    _ = try issue(["localhost", "127.0.0.1", "::1", "app.internal"], in: scratch)
    let verify = try openssl([
      "verify", "-CAfile", scratch.file("root.crt"), "-untrusted", scratch.file("intermediate.crt"),
      "-purpose", "sslserver", scratch.file("leaf.crt"),
    ])
    #expect(verify.status == 0, "\(verify.output)")
    #expect(verify.output.contains("leaf.crt: OK"))
  }

  @Test("openssl shows the SANs, CA:FALSE, serverAuth and CN = first name")
  func leafExtensions() throws {
    let scratch = try ScratchDirectory()
    _ = try issue(["localhost", "127.0.0.1", "::1", "app.internal"], in: scratch)
    let text = try openssl(["x509", "-in", scratch.file("leaf.crt"), "-noout", "-text"]).output
    #expect(text.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:app.internal"), "\(text)")
    #expect(text.contains("CA:FALSE"))
    #expect(text.contains("TLS Web Server Authentication"))
    #expect(text.contains("Digital Signature"))
    #expect(!text.contains("Certificate Sign"))
    #expect(text.contains("Subject: CN = localhost"))
    #expect(text.contains("Signature Algorithm: ecdsa-with-SHA256"))
    #expect(text.contains("ASN1 OID: prime256v1"))
  }

  @Test("the chain is leaf then intermediate")
  func chainOrder() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let issued = try issue(["localhost"], in: scratch, ca: ca)
    #expect(issued.chainPEM.components(separatedBy: "-----BEGIN CERTIFICATE-----").count == 3)
    #expect(issued.chainPEM.hasSuffix(ca.intermediatePEM))
    #expect(try X509Certificate(pem: issued.chainPEM).subjectCommonName == "localhost")
  }

  @Test("the leaf key belongs to the leaf certificate")
  func keyMatches() throws {
    let scratch = try ScratchDirectory()
    let issued = try issue(["localhost"], in: scratch)
    let fromKey = try openssl(["pkey", "-in", scratch.file("leaf.key"), "-pubout"])
    let fromCertificate = try openssl(["x509", "-in", scratch.file("leaf.crt"), "-noout", "-pubkey"])
    #expect(fromKey.status == 0 && fromCertificate.status == 0)
    #expect(fromKey.output == fromCertificate.output)
    #expect(issued.keyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    // And a different leaf's key does not.
    let other = try LocalCA(directory: scratch.caDirectory).issue(for: ["localhost"])
    #expect(!(try PrivateKey(pem: other.keyPEM).matches(X509Certificate(pem: issued.chainPEM))))
  }

  @Test("notAfter is about 12 hours from now, notBefore a minute ago")
  func validity() throws {
    let scratch = try ScratchDirectory()
    let before = unixNow()
    let issued = try issue(["localhost"], in: scratch)
    #expect(issued.notAfter >= before + 12 * 3600 && issued.notAfter <= unixNow() + 12 * 3600)
    // openssl: still valid in 11h50m, expired in 12h10m.
    let inside = try openssl(["x509", "-in", scratch.file("leaf.crt"), "-noout", "-checkend", "\(12 * 3600 - 600)"])
    let outside = try openssl(["x509", "-in", scratch.file("leaf.crt"), "-noout", "-checkend", "\(12 * 3600 + 600)"])
    #expect(inside.status == 0)
    #expect(outside.status == 1)
    let leaf = try X509Certificate(pem: issued.chainPEM)
    #expect(leaf.notAfter == issued.notAfter)
    #expect(leaf.notBefore >= before - 61 && leaf.notBefore <= unixNow() - 59)
  }

  @Test("a custom lifetime is honoured, and never outlasts the intermediate")
  func lifetimeClamped() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let hour = try ca.issue(for: ["localhost"], lifetime: .seconds(3600))
    #expect(abs(hour.notAfter - (unixNow() + 3600)) <= 2)
    let long = try ca.issue(for: ["localhost"], lifetime: .seconds(30 * 86400))
    #expect(long.notAfter == (try X509Certificate(pem: ca.intermediatePEM).notAfter))
  }

  @Test("names read back from the wrapper: IP literals become IP SANs, others DNS; duplicates dropped")
  func sanClassification() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let issued = try ca.issue(for: ["app.internal", "10.0.0.1", "[fe80::1]", "*.app.internal", "app.internal"])
    let leaf = try X509Certificate(pem: issued.chainPEM)
    #expect(leaf.subjectAlternativeNames == [.dns("app.internal"), .ipAddress("10.0.0.1"), .ipAddress("fe80::1"), .dns("*.app.internal")])
    #expect(leaf.subjectCommonName == "app.internal")
    #expect(leaf.issuerCommonName == "edge Local Authority - ECC Intermediate")
  }

  @Test("a name longer than 64 characters goes in the SAN only, which is then critical")
  func longName() throws {
    let scratch = try ScratchDirectory()
    let name = String(repeating: "a", count: 60) + ".internal"
    let issued = try issue([name], in: scratch)
    let leaf = try X509Certificate(pem: issued.chainPEM)
    #expect(leaf.subjectCommonName == nil)
    #expect(leaf.subjectAlternativeNames == [.dns(name)])
    let text = try openssl(["x509", "-in", scratch.file("leaf.crt"), "-noout", "-text"]).output
    #expect(text.contains("X509v3 Subject Alternative Name: critical"))
    let verify = try openssl([
      "verify", "-CAfile", scratch.file("root.crt"), "-untrusted", scratch.file("intermediate.crt"), scratch.file("leaf.crt"),
    ])
    #expect(verify.status == 0, "\(verify.output)")
  }

  @Test("names that cannot be in a certificate are rejected with the name", arguments: [
    "", "bad name", "a,DNS:evil.example", "trailing.", "-leading.internal", "x..y", "fe80::1%eth0",
  ])
  func rejectsBadNames(_ name: String) throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    do {
      _ = try ca.issue(for: ["localhost", name])
      Issue.record("\(name) was accepted")
    } catch {
      #expect(error.description.contains("'\(name)' is neither an IP address nor a valid DNS name"), "\(error)")
    }
  }

  @Test("an empty name list and a non-positive lifetime are errors")
  func rejectsEmpty() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    #expect(throws: LocalCAError.self) { try ca.issue(for: []) }
    #expect(throws: LocalCAError.self) { try ca.issue(for: ["localhost"], lifetime: .zero) }
  }

  @Test("issuing from many threads at once gives distinct valid leaves")
  func concurrentIssue() async throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let chains = try await withThrowingTaskGroup(of: String.self) { group in
      for index in 0..<16 { group.addTask { try ca.issue(for: ["site\(index).internal"]).chainPEM } }
      return try await group.reduce(into: [String]()) { $0.append($1) }
    }
    #expect(Set(chains).count == 16)
    for chain in chains {
      #expect(try X509Certificate(pem: chain).isSigned(by: PrivateKey(pem: scratch.read("intermediate.key"))))
    }
  }
}
