import Dispatch
import EdgeCore

/// Refreshes a held lock every third of its TTL on a dispatch queue of its own, until stopped or until the
/// lock is lost, when it calls `onLost` once. Dispatch queues get threads even when Swift's task pool is
/// busy with blocking work, so a refresh is not made late by unrelated tasks.
final class LockRefresher: Sendable {
  private let lock: StorageLock
  private let interval: DispatchTimeInterval
  private let onLost: @Sendable () -> Void
  private let queue = DispatchQueue(label: "edge.storage.lock-refresh")
  private let state = Locked((lastRefresh: ContinuousClock.now, lost: false, stopped: false))

  init(_ lock: StorageLock, onLost: @escaping @Sendable () -> Void) {
    self.lock = lock
    self.onLost = onLost
    interval = .nanoseconds(Int(clamping: lock.ttl.milliseconds * 1_000_000 / 3))
    schedule()
  }

  /// Whether the lock was lost while this refresher kept it.
  var lost: Bool { state.withLock { $0.lost } }

  /// Stops refreshing; a refresh under way finishes first, and none starts afterwards.
  func stop() {
    state.withLock { $0.stopped = true }
    queue.sync {}
  }

  private func schedule() {
    queue.asyncAfter(deadline: .now() + interval) { [self] in
      guard !state.withLock({ $0.stopped }) else { return }
      if tick() {
        onLost()
      } else {
        schedule()
      }
    }
  }

  /// One refresh; true when the lock is lost: taken by someone else, or not refreshed for a whole TTL
  /// (someone may have taken it). Other failures are retried at the next tick.
  private func tick() -> Bool {
    let now = ContinuousClock.now
    do {
      try lock.refresh()
      state.withLock { $0.lastRefresh = now }
      return false
    } catch {
      let lost: Bool
      if case StorageError.lockLost = error {
        lost = true
      } else {
        lost = state.withLock { now - $0.lastRefresh >= lock.ttl }
      }
      if lost { state.withLock { $0.lost = true } }
      return lost
    }
  }
}
