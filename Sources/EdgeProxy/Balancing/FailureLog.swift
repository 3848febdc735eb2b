import EdgeCore
import Synchronization

/// Recent failures of one upstream address (passive health), shared by every worker and route that
/// proxies to it, and kept across reloads with the address's other counters.
///
/// Each failure is a timestamp; a route counts those inside its own `fail_duration`, so two routes with
/// different windows read one history. Most reads find no recent failure with one atomic load and take
/// no lock.
public final class FailureLog: Sendable {
  /// Failures older than the longest window anyone asked for are dropped; at most this many are kept.
  public static let capacity = 1024

  private struct History {
    /// Milliseconds (monotonic), oldest first.
    var times: [UInt64] = []
    /// The longest window recorded with, so entries older than it can go.
    var keepFor: UInt64 = 0
  }

  private let history = Locked(History())
  /// The newest failure's time plus its window: before this instant some failure may still count.
  private let relevantUntil = Atomic<UInt64>(0)

  public init() {}

  /// Remembers a failure at `now` (ms) for a route whose window is `window` ms.
  public func record(at now: UInt64, window: UInt64) {
    history.withLock { h in
      h.keepFor = max(h.keepFor, window)
      let horizon = now > h.keepFor ? now - h.keepFor : 0
      if let stale = h.times.firstIndex(where: { $0 > horizon }) {
        if stale > 0 { h.times.removeFirst(stale) }
      } else {
        h.times.removeAll(keepingCapacity: true)
      }
      if h.times.count == Self.capacity { h.times.removeFirst() }
      h.times.append(now)
    }
    relevantUntil.raise(to: now + window)
  }

  /// How many failures fall within the `window` ms before `now`, counting no further than `limit`.
  public func count(at now: UInt64, window: UInt64, limit: Int = .max) -> Int {
    guard window > 0, relevantUntil.load(ordering: .relaxed) > now else { return 0 }
    let since = now > window ? now - window : 0
    return history.withLock { h in
      var found = 0
      for time in h.times.reversed() {
        guard time > since else { break }
        found += 1
        if found >= limit { break }
      }
      return found
    }
  }
}

extension Atomic where Value == UInt64 {
  /// Raises the value to `candidate` if it is lower.
  fileprivate func raise(to candidate: UInt64) {
    var current = load(ordering: .relaxed)
    while current < candidate {
      let (exchanged, original) = compareExchange(
        expected: current, desired: candidate, ordering: .relaxed)
      if exchanged { return }
      current = original
    }
  }
}
