#if canImport(Glibc)
  import Glibc
#endif

/// A value behind a pthread mutex: edge's lock for state shared between threads. Used instead of
/// `Synchronization.Mutex` because ThreadSanitizer understands pthread locks but not Mutex's bare futex,
/// and reports every access under it as a race (the EventLoop spike saw the same; see
/// docs/architecture.md), which would hide real races in `make tsan`.
public final class Locked<Value>: @unchecked Sendable {
  // Invariant: `value` is only read or written between pthread_mutex_lock and unlock of `mutex`.
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private var value: Value

  public init(_ value: consuming sending Value) {
    self.value = value
    mutex = .allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    let status = pthread_mutex_init(mutex, nil)
    precondition(status == 0, "pthread_mutex_init: \(status)")
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  /// Runs `body` with the value while holding the lock.
  public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
    let locked = pthread_mutex_lock(mutex)
    precondition(locked == 0, "pthread_mutex_lock: \(locked)")
    defer {
      let unlocked = pthread_mutex_unlock(mutex)
      precondition(unlocked == 0, "pthread_mutex_unlock: \(unlocked)")
    }
    return try body(&value)
  }
}
