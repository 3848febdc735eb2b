import EdgeCore
import Foundation
import Testing
@testable import EdgeStorage

#if canImport(Glibc)
  import Glibc
#endif

@Suite("FileStorage locks")
struct FileLockTests {
  @Test("a held lock is refused to everyone, its owner included, until released")
  func exclusion() throws {
    let storage = TemporaryRoot().storage
    let held = try #require(try storage.lock("issue:a.example", owner: "node-a", ttl: .seconds(30)))
    #expect(try storage.lock("issue:a.example", owner: "node-b", ttl: .seconds(30)) == nil)
    #expect(try storage.lock("issue:a.example", owner: "node-a", ttl: .seconds(30)) == nil)
    #expect(try storage.lock("issue:b.example", owner: "node-b", ttl: .seconds(30)) != nil)
    try held.release()
    #expect(try storage.lock("issue:a.example", owner: "node-b", ttl: .seconds(30)) != nil)
  }

  @Test("the lock file is JSON with owner, created, updated and ttl_ms, under a safe name")
  func lockFile() throws {
    let storage = TemporaryRoot().storage
    let lock = try #require(try storage.lock("issue:*.example.com", owner: "node-a", ttl: .milliseconds(1500)))
    let path = try storage.lockPath("issue:*.example.com")
    #expect(path == storage.root + "/locks/issue%3A%2A.example.com.lock")
    #expect(try storage.lockPath(".x/y") == storage.root + "/locks/%2Ex%2Fy.lock")
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    #expect(json["owner"] as? String == "node-a")
    #expect(json["ttl_ms"] as? Int == 1500)
    #expect(json["token"] as? String == lock.token)
    let updated = try #require(json["updated"] as? Int64)
    #expect(abs(updated - Int64(Date().timeIntervalSince1970 * 1000)) < 5000)
    #expect(throws: StorageError.self) { try storage.lock("", owner: "a", ttl: .seconds(1)) }
    // No temporary file is left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: storage.lockDirectory) == ["issue%3A%2A.example.com.lock"])
    try lock.release()
    #expect(try FileManager.default.contentsOfDirectory(atPath: storage.lockDirectory) == [".guard"])
  }

  @Test("threads contending for one lock never hold it at the same time")
  func threadsExclude() throws {
    let storage = TemporaryRoot().storage
    let state = Locked((inside: 0, most: 0, entries: 0))
    let threads = (0..<4).map { index in
      Thread {
        for _ in 0..<25 {
          var lock = try? storage.lock("shared", owner: "thread-\(index)", ttl: .seconds(30))
          while lock == nil {
            usleep(200)
            lock = try? storage.lock("shared", owner: "thread-\(index)", ttl: .seconds(30))
          }
          state.withLock {
            $0.inside += 1
            $0.most = max($0.most, $0.inside)
            $0.entries += 1
          }
          usleep(300)
          state.withLock { $0.inside -= 1 }
          try? lock?.release()
        }
      }
    }
    threads.forEach { $0.start() }
    while threads.contains(where: { !$0.isFinished }) { usleep(1000) }
    let result = state.withLock { $0 }
    #expect(result.entries == 100)
    #expect(result.most == 1)
  }

  @Test("a lock not refreshed within its TTL is taken over; the old holder can then neither refresh nor release it")
  func staleTakeover() throws {
    let storage = TemporaryRoot().storage
    let old = try #require(try storage.lock("renew", owner: "node-a", ttl: .milliseconds(200)))
    #expect(try storage.lock("renew", owner: "node-b", ttl: .seconds(30)) == nil)
    usleep(300_000)
    let new = try #require(try storage.lock("renew", owner: "node-b", ttl: .seconds(30)))
    #expect(throws: StorageError.lockLost(name: "renew")) { try old.refresh() }
    try old.release()  // not the owner any more: nothing happens
    #expect(try storage.lock("renew", owner: "node-c", ttl: .seconds(30)) == nil)
    let record = try #require(LockRecord.decode(Array(Data(contentsOf: URL(fileURLWithPath: try storage.lockPath("renew"))))))
    #expect(record.owner == "node-b" && record.token == new.token)
    try new.release()
    #expect(!FileManager.default.fileExists(atPath: try storage.lockPath("renew")))
  }

  @Test("refreshing keeps a lock past its TTL; once refreshing stops it goes stale")
  func refreshKeepsAlive() throws {
    let storage = TemporaryRoot().storage
    let lock = try #require(try storage.lock("renew", owner: "node-a", ttl: .milliseconds(300)))
    for _ in 0..<10 {
      usleep(100_000)
      try lock.refresh()
      #expect(try storage.lock("renew", owner: "node-b", ttl: .seconds(30)) == nil)
    }
    usleep(450_000)
    #expect(try storage.lock("renew", owner: "node-b", ttl: .seconds(30)) != nil)
  }

  @Test("a lock file that does not parse is held until its modification time is older than unreadableLockAge")
  func unreadableLockFile() throws {
    let storage = TemporaryRoot(unreadableLockAge: .seconds(60)).storage
    let path = try storage.lockPath("renew")
    try FileManager.default.createDirectory(atPath: storage.lockDirectory, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: path, contents: Data("{\"own".utf8))
    #expect(try storage.lock("renew", owner: "node-a", ttl: .seconds(30)) == nil)
    try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -61)], ofItemAtPath: path)
    #expect(try storage.lock("renew", owner: "node-a", ttl: .seconds(30)) != nil)
  }

  @Test("a stale lock contended by many threads at once goes to exactly one of them")
  func staleTakeoverRace() throws {
    for round in 0..<20 {
      let storage = TemporaryRoot().storage
      _ = try #require(try storage.lock("race", owner: "dead", ttl: .milliseconds(1)))
      usleep(5_000)
      let winners = Locked(0)
      let start = Locked(false)
      let threads = (0..<4).map { index in
        Thread {
          while !start.withLock({ $0 }) {}
          if (try? storage.lock("race", owner: "t\(index)-\(round)", ttl: .seconds(30))) != nil {
            winners.withLock { $0 += 1 }
          }
        }
      }
      threads.forEach { $0.start() }
      start.withLock { $0 = true }
      while threads.contains(where: { !$0.isFinished }) { usleep(500) }
      #expect(winners.withLock { $0 } == 1)
    }
  }
}
