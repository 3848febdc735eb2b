import EdgeCore

/// Runs one piece of work per key at a time, however many callers want its result: the first caller
/// starts it, later callers join, and everyone is answered once it finishes.
///
/// Thread-safe: callers and the work's completion may be on any thread. Waiters are called on the thread
/// that completes the work, outside the lock.
public final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
  public typealias Waiter = @Sendable (Value) -> Void
  private let inFlight = Locked<[Key: [Waiter]]>([:])

  public init() {}

  /// Calls `waiter` with the value for `key`. Starts `work` only if no work for `key` is in flight;
  /// `work` must call its completion exactly once (on any thread). Returns whether work was started.
  @discardableResult
  public func run(
    _ key: Key, waiter: @escaping Waiter, work: (_ complete: @escaping @Sendable (Value) -> Void) -> Void
  ) -> Bool {
    let first = inFlight.withLock { waiting -> Bool in
      if waiting[key] != nil {
        waiting[key]!.append(waiter)
        return false
      }
      waiting[key] = [waiter]
      return true
    }
    guard first else { return false }
    work { value in
      let waiters = self.inFlight.withLock { $0.removeValue(forKey: key) } ?? []
      for waiter in waiters { waiter(value) }
    }
    return true
  }

  /// Keys with work in flight (for tests and diagnostics).
  public var pendingKeys: Int { inFlight.withLock { $0.count } }
}
