import RedisTestSupport
import EdgeCluster
import EdgeRedis
import EdgeStorage
import Foundation
import Testing

@Suite("RedisStorage while Redis is away")
struct RedisStorageOutageTests {
  @Test("a server that stops answering fails calls with io at the timeout; its late replies go nowhere")
  func silentServer() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node(timeout: .seconds(1))
    try storage.store("a", Array("first".utf8), secret: false)
    try storage.store("b", Array("second".utf8), secret: false)
    cluster.server.pause()
    // The four calls wait side by side, each on a thread of its own.
    let outcomes = try await withThrowingTaskGroup(of: (String, Bool, Duration).self) { group in
      for call in ["load", "store", "list", "lock"] {
        group.addTask {
          try await onThread {
            let started = ContinuousClock.now
            let failed = throwsIO {
              switch call {
              case "load": _ = try storage.load("a")
              case "store": try storage.store("c", [1], secret: false)
              case "list": _ = try storage.list("", recursive: true)
              default: _ = try storage.lock("issue", owner: "node-1", ttl: .seconds(30))
              }
            }
            return (call, failed, ContinuousClock.now - started)
          }
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(outcomes.count == 4)
    for (call, failed, waited) in outcomes {
      #expect(failed, "\(call)")
      #expect(waited >= .milliseconds(900) && waited < .milliseconds(2500), "\(call) took \(waited)")
    }
    #expect(!storage.isReachable)
    cluster.server.resume()
    // The server now answers the four calls above first; each reply must reach its own (abandoned) call.
    #expect(try storage.load("b") == Array("second".utf8))
    #expect(try storage.load("a") == Array("first".utf8))
    #expect(storage.isReachable)
    try await cluster.close()
  }

  @Test("a killed server fails every call with io at once, and a restarted one is used again after reconnecting")
  func killedServer() async throws {
    let cluster = try TestCluster()
    let storage = try await cluster.node(timeout: .seconds(1))
    try storage.store("certificates/a.crt", [1], secret: false)
    cluster.server.kill()
    let started = ContinuousClock.now
    #expect(throwsIO { _ = try storage.load("certificates/a.crt") })
    #expect(throwsIO { try storage.store("certificates/a.crt", [2], secret: false) })
    #expect(throwsIO { try storage.delete("certificates/a.crt") })
    #expect(throwsIO { _ = try storage.list("certificates", recursive: false) })
    #expect(throwsIO { _ = try storage.stat("certificates/a.crt") })
    #expect(throwsIO { _ = try storage.lock("issue", owner: "node-1", ttl: .seconds(30)) })
    #expect(!storage.exists("certificates/a.crt"))
    #expect(!storage.isReachable)
    #expect(ContinuousClock.now - started < .seconds(7))

    try cluster.server.start()
    try await waitUntil("a store to reach the restarted server") {
      (try? storage.store("certificates/b.crt", [3], secret: false)) != nil
    }
    #expect(storage.isReachable)
    #expect(try storage.load("certificates/b.crt") == [3])
    // The new server started empty: Redis, not some cache, answered.
    #expect(throws: StorageError.notFound(key: "certificates/a.crt")) { try storage.load("certificates/a.crt") }
    try await cluster.close()
  }

  @Test("with a mirror, reads answer from the local copy while Redis is down; writes still fail")
  func mirror() async throws {
    let cluster = try TestCluster()
    let directory = TemporaryDirectory()
    let mirror = directory.storage
    let storage = try await cluster.node(mirror: mirror, timeout: .seconds(1))
    let other = try await cluster.node()
    let privateKey = Array("-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n".utf8)
    try storage.store("certificates/a.crt", Array("chain".utf8), secret: false)
    try storage.store("certificates/a.key", privateKey, secret: true)
    try storage.store("certificates/old.crt", [1], secret: false)
    try storage.store(StorageKeys.challengeToken("t"), [1], secret: false)
    #expect(try mirror.load("certificates/a.key") == privateKey)
    #expect(!mirror.exists(StorageKeys.challengeToken("t")))
    try storage.delete("certificates/old.crt")
    #expect(!mirror.exists("certificates/old.crt"))
    // What another node stores reaches this node's mirror when this node loads it, and again when it changes.
    try other.store("certificates/b.crt", Array("b1".utf8), secret: false)
    #expect(!mirror.exists("certificates/b.crt"))
    #expect(try storage.load("certificates/b.crt") == Array("b1".utf8))
    #expect(try mirror.load("certificates/b.crt") == Array("b1".utf8))
    try other.store("certificates/b.crt", Array("b2".utf8), secret: false)
    _ = try storage.load("certificates/b.crt")
    #expect(try mirror.load("certificates/b.crt") == Array("b2".utf8))

    cluster.server.kill()
    #expect(try storage.load("certificates/a.key") == privateKey)
    #expect(try storage.load("certificates/b.crt") == Array("b2".utf8))
    #expect(throws: StorageError.notFound(key: "certificates/none.crt")) { try storage.load("certificates/none.crt") }
    #expect(storage.exists("certificates/a.crt"))
    #expect(try storage.list("certificates", recursive: false) == [
      "certificates/a.crt", "certificates/a.key", "certificates/b.crt",
    ])
    #expect(try storage.stat("certificates/a.crt").size == 5)
    #expect(!storage.isReachable)
    #expect(throwsIO { try storage.store("certificates/c.crt", [1], secret: false) })
    #expect(!mirror.exists("certificates/c.crt"))
    #expect(throwsIO { try storage.delete("certificates/a.crt") })
    #expect(mirror.exists("certificates/a.crt"))
    #expect(throwsIO { _ = try storage.lock("issue", owner: "node-1", ttl: .seconds(30)) })

    try cluster.server.start()
    try await waitUntil("a store to reach the restarted server") {
      (try? storage.store("certificates/c.crt", [1], secret: false)) != nil
    }
    #expect(storage.isReachable)
    // Reachable again, Redis is the truth (and the restarted server is empty).
    #expect(throws: StorageError.notFound(key: "certificates/a.key")) { try storage.load("certificates/a.key") }
    try await cluster.close()
  }

  @Test("a mirror that cannot be written does not fail the store; onMirrorError hears of it")
  func brokenMirror() async throws {
    let cluster = try TestCluster()
    let directory = TemporaryDirectory()
    // The mirror's root lies under a regular file: nothing can be created there.
    try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
    #expect(FileManager.default.createFile(atPath: directory.path + "/mirror", contents: Data([1])))
    let storage = try await cluster.node(mirror: directory.storage)
    let failures = Recorder<String>()
    storage.onMirrorError = { key, _ in failures.append(key) }
    try storage.store("certificates/a.crt", [1], secret: false)
    #expect(try storage.load("certificates/a.crt") == [1])
    #expect(failures.all == ["certificates/a.crt", "certificates/a.crt"])
    try await cluster.close()
  }
}
