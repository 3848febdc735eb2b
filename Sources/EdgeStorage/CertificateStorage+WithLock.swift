extension CertificateStorage {
  /// Runs `body` while holding the lock `name`, the way an issuance should: waits for the lock, keeps it
  /// fresh while `body` runs, and releases it afterwards whatever happens.
  ///
  /// - Waiting: tries `lock` every `poll` (±50 % jitter, so nodes that lost the same race spread out) until
  ///   it gets it, `timeout` passes (`StorageError.lockTimeout`; nil waits until cancelled) or the task is
  ///   cancelled. Sleeps with `Task.sleep`: never call it on an event loop's executor.
  /// - Holding: `body` runs in a task of its own (cancelled when the caller is); a `LockRefresher`
  ///   refreshes the lock every `ttl / 3` from a dispatch queue, so a busy task pool cannot make it late. A
  ///   refresh that fails for a passing reason is retried at the next tick; when the lock is lost (taken over
  ///   after going stale, or no refresh succeeded for a whole `ttl`) `body` is cancelled and
  ///   `StorageError.lockLost` is thrown once it has stopped, whatever it returned.
  /// - Releasing: after `body` returns or throws, or the caller is cancelled, and only after `body` has
  ///   finished. A release that fails is not reported (the work is done); the lock then goes stale after
  ///   `ttl` and the next taker takes it over.
  ///
  /// Like certmagic's issuance, `body` should check again whether its work is still needed: another node may
  /// have done it while this one waited.
  public func withLock<Value: Sendable>(
    _ name: String, owner: String, ttl: Duration, poll: Duration = .seconds(1), timeout: Duration? = nil,
    _ body: @escaping @Sendable () async throws -> Value
  ) async throws -> Value {
    let lock = try await acquire(name, owner: owner, ttl: ttl, poll: poll, timeout: timeout)
    let work = Task { try await body() }
    let refresher = LockRefresher(lock) { work.cancel() }
    let result = await withTaskCancellationHandler {
      await work.result
    } onCancel: {
      work.cancel()
    }
    // The body has finished: stop refreshing (waiting for a refresh under way), then release.
    refresher.stop()
    try? lock.release()
    if refresher.lost { throw StorageError.lockLost(name: name) }
    return try result.get()
  }

  /// Waits for the lock as `withLock` describes.
  func acquire(_ name: String, owner: String, ttl: Duration, poll: Duration, timeout: Duration?) async throws -> StorageLock {
    let clock = ContinuousClock()
    let deadline = timeout.map { clock.now + $0 }
    while true {
      if let lock = try lock(name, owner: owner, ttl: ttl) { return lock }
      let pause = poll * Double.random(in: 0.5...1.5)
      if let deadline, clock.now + pause > deadline {
        throw StorageError.lockTimeout(name: name, timeout: timeout ?? .zero)
      }
      try await Task.sleep(for: pause)
    }
  }
}
