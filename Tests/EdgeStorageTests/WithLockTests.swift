import EdgeCore
import Foundation
import Testing
@testable import EdgeStorage

@Suite("withLock")
struct WithLockTests {
  @Test("waits for the holder to release, runs the body, then releases")
  func waitsThenReleases() async throws {
    let storage = TemporaryRoot().storage
    let holder = try #require(try storage.lock("issue", owner: "other", ttl: .seconds(30)))
    let releaser = Task {
      try await Task.sleep(for: .milliseconds(200))
      try holder.release()
    }
    let started = ContinuousClock.now
    let value = try await storage.withLock("issue", owner: "me", ttl: .seconds(30), poll: .milliseconds(20)) {
      // Held by us: nobody else gets it.
      (try storage.lock("issue", owner: "third", ttl: .seconds(30))) == nil ? 42 : 0
    }
    #expect(value == 42)
    #expect(ContinuousClock.now - started >= .milliseconds(190))
    try await releaser.value
    #expect(try storage.lock("issue", owner: "third", ttl: .seconds(30)) != nil)
  }

  @Test("gives up with lockTimeout when the lock stays held")
  func timesOut() async throws {
    let storage = TemporaryRoot().storage
    _ = try #require(try storage.lock("issue", owner: "other", ttl: .seconds(30)))
    await #expect(throws: StorageError.lockTimeout(name: "issue", timeout: .milliseconds(300))) {
      try await storage.withLock("issue", owner: "me", ttl: .seconds(30), poll: .milliseconds(20), timeout: .milliseconds(300)) {}
    }
  }

  @Test("refreshes the lock while a body runs longer than the TTL")
  func refreshesWhileRunning() async throws {
    let storage = TemporaryRoot().storage
    try await storage.withLock("issue", owner: "me", ttl: .milliseconds(300)) {
      for _ in 0..<8 {
        try await Task.sleep(for: .milliseconds(100))
        #expect(try storage.lock("issue", owner: "other", ttl: .seconds(30)) == nil)
      }
    }
    #expect(try storage.lock("issue", owner: "other", ttl: .seconds(30)) != nil)
  }

  @Test("releases when the body throws, and rethrows its error")
  func releasesOnError() async throws {
    struct Failed: Error, Equatable {}
    let storage = TemporaryRoot().storage
    await #expect(throws: Failed()) {
      try await storage.withLock("issue", owner: "me", ttl: .seconds(30)) { throw Failed() }
    }
    #expect(try storage.lock("issue", owner: "other", ttl: .seconds(30)) != nil)
  }

  @Test("releases when the waiting task is cancelled, after the body has stopped")
  func releasesOnCancellation() async throws {
    let storage = TemporaryRoot().storage
    let bodyStarted = Locked(false)
    let bodyStopped = Locked(false)
    let task = Task {
      try await storage.withLock("issue", owner: "me", ttl: .seconds(30)) {
        bodyStarted.withLock { $0 = true }
        defer { bodyStopped.withLock { $0 = true } }
        try await Task.sleep(for: .seconds(30))
      }
    }
    // Waits for the body rather than a fixed time: the body is a task of its own, and while the whole unit
    // suite runs in parallel on a 2-core machine the task pool (two threads) can take more than 10 s to
    // start it (seen in CI).
    let deadline = ContinuousClock.now + .seconds(60)
    while !bodyStarted.withLock({ $0 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    #expect(bodyStarted.withLock { $0 })
    #expect(try storage.lock("issue", owner: "other", ttl: .seconds(30)) == nil)
    task.cancel()
    await #expect(throws: CancellationError.self) { try await task.value }
    #expect(bodyStopped.withLock { $0 })
    #expect(try storage.lock("issue", owner: "other", ttl: .seconds(30)) != nil)
  }

  @Test("a lock taken over under the body cancels the body and throws lockLost")
  func lostLockCancelsBody() async throws {
    let storage = TemporaryRoot().storage
    let cancelled = Locked(false)
    await #expect(throws: StorageError.lockLost(name: "issue")) {
      try await storage.withLock("issue", owner: "me", ttl: .milliseconds(300)) {
        // Someone else's lock replaces ours (as a takeover after a long pause would).
        let other = LockRecord(owner: "other", token: "x", created: 0, updated: Int64(Date().timeIntervalSince1970 * 1000), ttlMilliseconds: 30_000)
        try Data(other.encoded()).write(to: URL(fileURLWithPath: try storage.lockPath("issue")))
        do {
          try await Task.sleep(for: .seconds(10))
        } catch {
          cancelled.withLock { $0 = true }
          throw error
        }
      }
    }
    #expect(cancelled.withLock { $0 })
    // The other owner's lock was left alone.
    #expect(try storage.lock("issue", owner: "third", ttl: .seconds(30)) == nil)
  }
}
