import Testing

@testable import EdgeTLS

/// The interface between the local CA and the certificate cache is PEM text: what `issue` hands out,
/// `CertifiedKey` must take as it is.
@Suite("local CA: issued PEM feeds CertifiedKey")
struct LocalCAInteropTests {
  @Test("CertifiedKey accepts an issued chain and key, with the same names and notAfter")
  func certifiedKeyAcceptsIssuedLeaf() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let issued = try ca.issue(for: ["localhost", "127.0.0.1", "::1", "App.Internal"])
    let certified = try CertifiedKey(chainPEM: issued.chainPEM, keyPEM: issued.keyPEM)
    #expect(certified.notAfter == issued.notAfter)
    #expect(certified.names.contains("localhost"))
    #expect(certified.names.contains("127.0.0.1"))
    #expect(certified.names.contains("app.internal"))
    #expect(certified.names.count == 4)
  }

  @Test("CertifiedKey rejects an issued chain with another issued leaf's key")
  func certifiedKeyRejectsForeignKey() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let first = try ca.issue(for: ["localhost"])
    let second = try ca.issue(for: ["localhost"])
    #expect(throws: CertificateError.self) { try CertifiedKey(chainPEM: first.chainPEM, keyPEM: second.keyPEM) }
  }
}
