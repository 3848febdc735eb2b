import Testing
@testable import EdgeTLS

@Suite("certificate cache") struct CertificateCacheTests {
  let certificates = TestCertificates.shared

  @Test("exact names first, then a one-label wildcard") func lookup() throws {
    let cache = CertificateCache()
    let wildcard = try certificates.key("*.wild.test")
    cache.insert(wildcard)
    #expect(cache.lookup(serverName: "x.wild.test") === wildcard)
    #expect(cache.lookup(serverName: "X.Wild.Test") === wildcard)
    #expect(cache.lookup(serverName: "a.b.wild.test") == nil)
    #expect(cache.lookup(serverName: "wild.test") == nil)
    #expect(cache.lookup(serverName: ".wild.test") == nil)
  }

  @Test("a snapshot taken before a change keeps what it saw") func snapshots() throws {
    let cache = CertificateCache()
    let a = try certificates.key("a.test")
    cache.insert(a)
    let before = cache.snapshot
    cache.remove(a)
    #expect(before.lookup(serverName: "a.test") === a)
    #expect(cache.lookup(serverName: "a.test") == nil)
    #expect(cache.snapshot.byName.isEmpty)
  }

  @Test("the default certificate can be set and removed") func defaults() throws {
    let cache = CertificateCache()
    let d = try certificates.key("default.test")
    cache.setDefault(d)
    #expect(cache.defaultCertificate === d)
    cache.remove(d)
    #expect(cache.defaultCertificate == nil)
  }

  @Test("concurrent inserts are all kept") func concurrentWriters() async throws {
    let cache = CertificateCache()
    let keys = try ["a.test", "b.test", "*.wild.test", "other.test", "default.test"].map { try certificates.key($0) }
    await withTaskGroup(of: Void.self) { group in
      for key in keys { group.addTask { cache.insert(key) } }
    }
    for key in keys { #expect(cache.lookup(serverName: key.names[0]) === key) }
  }
}
