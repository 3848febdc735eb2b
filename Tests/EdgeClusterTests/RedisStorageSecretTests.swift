import EdgeCluster
import EdgeRedis
import EdgeStorage
import Testing

@Suite("RedisStorage secrets")
struct RedisStorageSecretTests {
  let privateKey = Array("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n".utf8)

  @Test("a secret is sealed before it reaches Redis, and opens on every node of the cluster")
  func sealedAtRest() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    let other = try await cluster.node()
    try storage.store("certificates/a.key", privateKey, secret: true)
    let raw = try #require(try storage.command("HGET", "edge:test:s:certificates/a.key", "v").bytes)
    #expect(raw != privateKey)
    #expect(!raw.contains(subsequence: Array("BEGIN".utf8)))
    #expect(!raw.contains(subsequence: Array("MIGHAgEAMBMG".utf8)))
    #expect(text(try storage.command("HGET", "edge:test:s:certificates/a.key", "e")) == "1")
    #expect(try other.load("certificates/a.key") == privateKey)
    try await cluster.close()
  }

  @Test("a node with another cluster secret gets an I/O error, not garbage")
  func anotherSecret() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    let stranger = try await cluster.node(secret: TestCluster.otherSecret)
    try storage.store("certificates/a.key", privateKey, secret: true)
    do {
      _ = try stranger.load("certificates/a.key")
      Issue.record("a value sealed under another secret was opened")
    } catch StorageError.io(_, _, let detail) {
      #expect(detail.contains("another cluster secret"))
    }
    // Plain values are shared all the same.
    try storage.store("certificates/a.crt", [1], secret: false)
    #expect(try stranger.load("certificates/a.crt") == [1])
    try await cluster.close()
  }

  @Test("a sealed value copied to another key does not open there")
  func boundToItsKey() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    try storage.store("certificates/a.key", privateKey, secret: true)
    let raw = try #require(try storage.command("HGET", "edge:test:s:certificates/a.key", "v").bytes)
    _ = try storage.command(
      [Array("HSET".utf8), Array("edge:test:s:certificates/b.key".utf8), Array("v".utf8), raw]
        + [Array("m".utf8), Array("0".utf8), Array("e".utf8), Array("1".utf8)])
    _ = try storage.command("ZADD", "edge:test:index", "0", "certificates/b.key")
    #expect(storage.exists("certificates/b.key"))
    #expect(throwsIO { _ = try storage.load("certificates/b.key") })
    #expect(try storage.load("certificates/a.key") == privateKey)
    try await cluster.close()
  }
}
