import EdgeCluster
import EdgeRedis
import EdgeStorage
import Foundation
import Testing

@Suite("RedisStorage keys and values")
struct RedisStorageTests {
  @Test("a stored value loads back byte for byte on every node, and storing again replaces it")
  func roundTrip() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    let other = try await cluster.node()
    let binary = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    try storage.store("certificates/a.example.com.crt", binary, secret: false)
    #expect(try other.load("certificates/a.example.com.crt") == binary)
    try storage.store("certificates/a.example.com.crt", [1, 2, 3], secret: false)
    #expect(try other.load("certificates/a.example.com.crt") == [1, 2, 3])
    try storage.store("empty", [], secret: false)
    #expect(try storage.load("empty") == [])
    // A secret replaced by a plain value is plain again.
    try storage.store("certificates/a.key", [9, 9], secret: true)
    try storage.store("certificates/a.key", [7], secret: false)
    #expect(try other.load("certificates/a.key") == [7])
    try await cluster.close()
  }

  @Test("a missing key is notFound, not an I/O error, for load and stat; deleting it is no error")
  func missingKeys() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    #expect(throws: StorageError.notFound(key: "certificates/none.crt")) { try storage.load("certificates/none.crt") }
    #expect(throws: StorageError.notFound(key: "none")) { try storage.stat("none") }
    #expect(!storage.exists("certificates/none.crt"))
    try storage.delete("certificates/none.crt")
    try storage.store("a/b", [1], secret: false)
    #expect(throws: StorageError.notFound(key: "a")) { try storage.load("a") }
    #expect(throws: StorageError.notFound(key: "a/b/c")) { try storage.load("a/b/c") }
    try await cluster.close()
  }

  @Test("a value is a hash under the prefix, indexed with score 0; every key the storage touches has the prefix")
  func layout() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    let before = Int64(Date().timeIntervalSince1970 * 1000) - 1000
    try storage.store("certificates/a.crt", Array("chain".utf8), secret: false)
    let after = Int64(Date().timeIntervalSince1970 * 1000) + 1000
    let hash = "edge:test:s:certificates/a.crt"
    #expect(text(try storage.command("HGET", hash, "v")) == "chain")
    #expect(text(try storage.command("HGET", hash, "e")) == "0")
    let modified = try #require(Int64(text(try storage.command("HGET", hash, "m"))))
    #expect(modified > before && modified < after)
    #expect(text(try storage.command("ZSCORE", "edge:test:index", "certificates/a.crt")) == "0")
    #expect(try storage.command("PTTL", hash) == .integer(-1))
    try storage.store("certificates/a.key", [1], secret: true)
    try storage.store("acme/challenges/token", [2], secret: false)
    // Scripts go by their SHA1; the full text only once, when the server does not know it yet.
    let stats = text(try storage.command("INFO", "commandstats"))
    #expect(stats.contains("cmdstat_evalsha:calls=3,") && stats.contains("cmdstat_eval:calls=1,"))
    _ = try #require(try storage.lock("issue", owner: "node-1", ttl: .seconds(30)))
    let keys = try #require(try storage.command("KEYS", "*").array).map(text).sorted()
    #expect(keys == [
      "edge:test:index", "edge:test:lock:issue", "edge:test:s:acme/challenges/token", "edge:test:s:certificates/a.crt",
      "edge:test:s:certificates/a.key",
    ])
    // Another prefix is another cluster: it sees none of it.
    let elsewhere = try await cluster.node(prefix: "edge:staging:")
    #expect(throws: StorageError.notFound(key: "certificates/a.crt")) { try elsewhere.load("certificates/a.crt") }
    #expect(try elsewhere.list("", recursive: true) == [])
    #expect(try elsewhere.lock("issue", owner: "node-2", ttl: .seconds(30)) != nil)
    try await cluster.close()
  }

  @Test("exists, stat and delete see values and directories")
  func statAndDelete() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    let before = Date(timeIntervalSinceNow: -2)
    try storage.store("certificates/a.crt", Array(repeating: 65, count: 42), secret: false)
    try storage.store("certificates/a.key", Array(repeating: 66, count: 300), secret: true)
    try storage.store("certificates/sub/b.crt", [1], secret: false)
    let info = try storage.stat("certificates/a.crt")
    #expect(info.key == "certificates/a.crt" && info.size == 42 && info.isTerminal)
    #expect(info.modified > before && info.modified < Date(timeIntervalSinceNow: 2))
    // A sealed value's size is its plaintext's.
    #expect(try storage.stat("certificates/a.key").size == 300)
    let directory = try storage.stat("certificates")
    #expect(!directory.isTerminal && directory.size == 0 && directory.key == "certificates")
    #expect(try storage.stat("certificates/sub").isTerminal == false)
    #expect(storage.exists("certificates") && storage.exists("certificates/a.crt") && storage.exists("certificates/sub"))
    #expect(!storage.exists("cert") && !storage.exists("certificates/a"))
    try storage.delete("certificates/a.crt")
    #expect(!storage.exists("certificates/a.crt"))
    try storage.delete("certificates")
    #expect(!storage.exists("certificates/sub/b.crt") && !storage.exists("certificates") && !storage.exists("certificates/a.key"))
    #expect(throws: StorageError.notFound(key: "certificates")) { try storage.stat("certificates") }
    try await cluster.close()
  }

  @Test("deleting a directory removes everything below it from the hashes and the index, and nothing beside it")
  func deleteDirectory() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    for key in ["a/b", "a/c/d", "a/c/e/f", "ab/e", "a-b"] { try storage.store(key, [1], secret: false) }
    try storage.delete("a")
    #expect(try storage.command("ZRANGE", "edge:test:index", "0", "-1") == .array([.bulk(Array("a-b".utf8)), .bulk(Array("ab/e".utf8))]))
    let hashes = try #require(try storage.command("KEYS", "edge:test:s:*").array).map(text).sorted()
    #expect(hashes == ["edge:test:s:a-b", "edge:test:s:ab/e"])
    #expect(try storage.load("ab/e") == [1])
    try await cluster.close()
  }

  @Test(
    "keys that are invalid in any backend are refused",
    arguments: ["", "/etc/passwd", "a//b", "a/", "..", "../x", "a/../../b", ".", "./a", ".hidden", "a/.tmp", "a\u{0}b",
      String(repeating: "x", count: 201)])
  func invalidKeys(_ key: String) async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    func isInvalidKey(_ error: any Error) -> Bool {
      if case StorageError.invalidKey = error { return true }
      return false
    }
    #expect(performing: { try storage.store(key, [1], secret: false) }, throws: isInvalidKey)
    #expect(performing: { try storage.load(key) }, throws: isInvalidKey)
    #expect(performing: { try storage.delete(key) }, throws: isInvalidKey)
    #expect(performing: { try storage.stat(key) }, throws: isInvalidKey)
    if !key.isEmpty { #expect(performing: { try storage.list(key, recursive: true) }, throws: isInvalidKey) }
    #expect(!storage.exists(key))
    #expect(try storage.command("DBSIZE") == .integer(0))
    try await cluster.close()
  }

  @Test("locks/ is refused as in FileStorage, so any key can be mirrored")
  func lockDirectoryIsReserved() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    #expect(throws: StorageError.self) { try storage.store("locks/a.lock", [1], secret: false) }
    #expect(throws: StorageError.self) { try storage.delete("locks") }
    try await cluster.close()
  }

  @Test("list gives the next level (values and directories) or every value below, sorted")
  func list() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    for key in ["certificates/b.crt", "certificates/a.key", "certificates/a.crt", "certificates/sub/c.crt",
      "acme/ca/accounts/default.key", "certificates-old/x.crt"]
    {
      try storage.store(key, [1], secret: false)
    }
    #expect(try storage.list("", recursive: false) == ["acme", "certificates", "certificates-old"])
    #expect(try storage.list("certificates", recursive: false) == [
      "certificates/a.crt", "certificates/a.key", "certificates/b.crt", "certificates/sub",
    ])
    #expect(try storage.list("certificates", recursive: true) == [
      "certificates/a.crt", "certificates/a.key", "certificates/b.crt", "certificates/sub/c.crt",
    ])
    #expect(try storage.list("", recursive: true).count == 6)
    #expect(try storage.list("acme/ca", recursive: false) == ["acme/ca/accounts"])
    #expect(try storage.list("nothing/here", recursive: true) == [])
    #expect(try storage.list("certificates/a.crt", recursive: false) == [])
    try await cluster.close()
  }

  @Test("ACME challenge answers expire and stay out of the index, yet load, exist and delete")
  func challengesExpire() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node()
    let key = StorageKeys.challengeToken("abc-123")
    try storage.store(key, Array("abc-123.thumbprint".utf8), secret: false)
    let ttl = try #require(try storage.command("PTTL", "edge:test:s:" + key).integer)
    #expect(ttl > 3_500_000 && ttl <= 3_600_000)
    #expect(try storage.command("ZSCORE", "edge:test:index", key) == .null)
    #expect(try storage.command("EXISTS", "edge:test:index") == .integer(0))
    #expect(try storage.load(key) == Array("abc-123.thumbprint".utf8))
    #expect(storage.exists(key))
    #expect(try storage.list("acme", recursive: true) == [])
    try storage.delete(key)
    #expect(!storage.exists(key))
    #expect(throws: StorageError.notFound(key: key)) { try storage.load(key) }
    try await cluster.close()
  }

  @Test("readers see the old value or the new, never a mix of one's bytes and the other's sealing flag")
  func storesAreAtomic() async throws {
    let cluster = try TestCluster()
    let writer = try await cluster.node()
    let reader = try await cluster.node()
    let sealed = Array("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n".utf8)
    let plain = Array("plain, and of another length".utf8)
    try writer.store("certificates/x.key", plain, secret: false)
    let writes = Task.detached {
      for round in 0..<150 {
        try writer.store("certificates/x.key", round % 2 == 0 ? sealed : plain, secret: round % 2 == 0)
      }
    }
    for _ in 0..<150 {
      let value = try reader.load("certificates/x.key")
      #expect(value == sealed || value == plain)
    }
    try await writes.value
    #expect(try reader.load("certificates/x.key") == plain)
    try await cluster.close()
  }
}
