import Foundation
import Testing

@testable import EdgeTLS

@Suite("local CA: first start and reload")
struct LocalCACreationTests {
  @Test("a new directory gets a root and an intermediate; keys 0600, directory 0700")
  func createsFiles() throws {
    let scratch = try ScratchDirectory()
    _ = try LocalCA(directory: scratch.caDirectory)
    #expect(try mode(of: scratch.caDirectory) == 0o700)
    #expect(try mode(of: scratch.file("root.key")) == 0o600)
    #expect(try mode(of: scratch.file("intermediate.key")) == 0o600)
    #expect(try mode(of: scratch.file("root.crt")) == 0o644)
    #expect(try mode(of: scratch.file("intermediate.crt")) == 0o644)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.caDirectory).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty)
  }

  @Test("loading again gives the same root and intermediate")
  func reloadKeepsRoot() throws {
    let scratch = try ScratchDirectory()
    let first = try LocalCA(directory: scratch.caDirectory)
    let rootKey = try scratch.read("root.key")
    let second = try LocalCA(directory: scratch.caDirectory)
    #expect(second.rootFingerprintSHA256 == first.rootFingerprintSHA256)
    #expect(second.rootPEM == first.rootPEM)
    #expect(second.intermediatePEM == first.intermediatePEM)
    #expect(try scratch.read("root.key") == rootKey)
  }

  @Test("the fingerprint is what openssl prints for root.crt")
  func fingerprintMatchesOpenSSL() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let result = try openssl(["x509", "-in", scratch.file("root.crt"), "-noout", "-fingerprint", "-sha256"])
    #expect(result.status == 0)
    #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "sha256 Fingerprint=\(ca.rootFingerprintSHA256)")
  }

  @Test("root and intermediate are CAs with path lengths 1 and 0, and the intermediate verifies")
  func authorityExtensions() throws {
    let scratch = try ScratchDirectory()
    _ = try LocalCA(directory: scratch.caDirectory, name: "Test Authority")
    let root = try openssl(["x509", "-in", scratch.file("root.crt"), "-noout", "-text"]).output
    #expect(root.contains("CA:TRUE, pathlen:1"))
    #expect(root.contains("Certificate Sign, CRL Sign"))
    #expect(root.contains("Subject: O = Test Authority, CN = Test Authority - "))
    let intermediate = try openssl(["x509", "-in", scratch.file("intermediate.crt"), "-noout", "-text"]).output
    #expect(intermediate.contains("CA:TRUE, pathlen:0"))
    #expect(intermediate.contains("Issuer: O = Test Authority, CN = Test Authority - "))
    #expect(intermediate.contains("X509v3 Authority Key Identifier"))
    let verify = try openssl(["verify", "-CAfile", scratch.file("root.crt"), scratch.file("intermediate.crt")])
    #expect(verify.status == 0, "\(verify.output)")
  }

  @Test("a directory that exists with group access is tightened to 0700")
  func tightensDirectory() throws {
    let scratch = try ScratchDirectory()
    try FileManager.default.createDirectory(atPath: scratch.caDirectory, withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o755])
    _ = try LocalCA(directory: scratch.caDirectory)
    #expect(try mode(of: scratch.caDirectory) == 0o700)
  }
}
