import EdgeCore
import Synchronization

/// The node's `max_connections`: one count of open client connections (tunnels included) shared by every
/// worker, so the limit holds for the node whichever worker the kernel hands a connection to. One relaxed
/// atomic add per accept and per close.
public final class ConnectionBudget: Sendable {
  private let open = Atomic<Int>(0)
  private let limitValue: Atomic<Int>
  /// Every worker's waiting connections, for a worker that has none of its own to evict.
  private let evictors = Locked<[Evictor]>([])
  /// Evictions asked of other workers and not done yet: each lets one connection in over the limit.
  private let remoteEvictions = Atomic<Int>(0)

  public init(limit: Int) {
    limitValue = Atomic(limit)
  }

  /// The limit now (a reload may change it).
  public var limit: Int { limitValue.load(ordering: .relaxed) }

  public func setLimit(_ limit: Int) { limitValue.store(limit, ordering: .relaxed) }

  /// Client connections and tunnels open now.
  public var openCount: Int { open.load(ordering: .relaxed) }

  /// Takes a slot, or returns false (taking nothing) when the node is at its limit.
  func claim() -> Bool {
    if open.wrappingAdd(1, ordering: .relaxed).newValue <= limit { return true }
    open.subtract(1, ordering: .relaxed)
    return false
  }

  /// Takes a slot beyond the limit: for a connection that replaces one being closed, which gives its slot
  /// back once its socket is released.
  func claimReplacing() { open.add(1, ordering: .relaxed) }

  func release() { open.subtract(1, ordering: .relaxed) }

  /// A worker's way to be asked to evict: how many of its connections wait now, and how to ask it (the
  /// eviction runs on its own loop).
  final class Evictor: Sendable {
    let waiting = Atomic<Int>(0)
    let evict: @Sendable (_ done: @escaping @Sendable () -> Void) -> Void
    init(evict: @escaping @Sendable (_ done: @escaping @Sendable () -> Void) -> Void) { self.evict = evict }
  }

  func register(_ evictor: Evictor) { evictors.withLock { $0.append(evictor) } }

  /// Asks another worker with waiting connections to evict its oldest: the kernel spreads connections over
  /// the workers, not idleness, and a worker at the limit with none of its own waiting would otherwise
  /// refuse while another holds idle ones. At most 8 such evictions are under way at once (each lets one
  /// connection in over the limit until it is done). False when no other worker has any waiting.
  func askAnotherToEvict(from me: Evictor) -> Bool {
    guard remoteEvictions.wrappingAdd(1, ordering: .relaxed).newValue <= 8 else {
      remoteEvictions.subtract(1, ordering: .relaxed)
      return false
    }
    let other = evictors.withLock { all in
      all.filter { $0 !== me && $0.waiting.load(ordering: .relaxed) > 0 }.max { a, b in
        a.waiting.load(ordering: .relaxed) < b.waiting.load(ordering: .relaxed)
      }
    }
    guard let other else {
      remoteEvictions.subtract(1, ordering: .relaxed)
      return false
    }
    other.evict { [self] in remoteEvictions.subtract(1, ordering: .relaxed) }
    return true
  }
}

extension ConnectionBudget {
  /// What one connection can hold at worst: a client that stops reading a response leaves up to the
  /// stream's high watermark (256 KiB) plus one upstream read (64 KiB) queued until the `write` timeout.
  public static let worstCaseBytesPerConnection = 320 * 1024

  /// `max_connections` when the configuration leaves it out: half the open-file limit (each proxied request
  /// holds an upstream socket too) less 64 for the node's own files, listeners and Redis — and no more
  /// than half the machine's memory can buffer at the worst case per connection (slow readers); at
  /// least 64.
  public static func defaultLimit(openFiles: Int, memoryBytes: UInt64) -> Int {
    let byFiles = openFiles / 2 - 64
    let byMemory = Int(min(memoryBytes / 2 / UInt64(worstCaseBytesPerConnection), UInt64(Int.max)))
    return max(64, min(byFiles, byMemory))
  }
}
