/// The connections of one worker that hold a slot while no request of theirs is under way — accepted and
/// silent, part-way through a head, or idle between keep-alive requests — oldest first. At
/// `max_connections` the oldest gives way to a new connection, so a flood of idle or slow connections
/// (slowloris) is pushed out by new traffic instead of locking it out.
///
/// A queue of tickets: a connection takes a new one each time it starts waiting and keeps the latest, so
/// an entry whose ticket is no longer its connection's is stale and skipped. Loop-bound, like its worker.
struct WaitingConnections {
  struct Entry {
    let id: ObjectIdentifier
    let ticket: UInt64
  }

  private var entries: [Entry] = []
  private var head = 0
  private var lastTicket: UInt64 = 0

  /// Entries still queued (stale ones included).
  var count: Int { entries.count - head }

  /// Queues a connection that starts waiting now; it keeps the ticket to be recognised later.
  mutating func enter(_ id: ObjectIdentifier) -> UInt64 {
    lastTicket += 1
    entries.append(Entry(id: id, ticket: lastTicket))
    return lastTicket
  }

  /// Hands entries to `take`, oldest first, dropping each, until it accepts one. False when none was.
  mutating func takeOldest(_ take: (Entry) -> Bool) -> Bool {
    while head < entries.count {
      let entry = entries[head]
      head += 1
      if take(entry) { return true }
    }
    entries.removeAll(keepingCapacity: true)
    head = 0
    return false
  }

  /// Every request adds an entry and only evictions remove them: once stale entries outnumber the
  /// connections well, keep only the current ones (amortised O(1) per entry).
  mutating func compact(connections: Int, isCurrent: (Entry) -> Bool) {
    guard count > 2 * connections + 1024 else { return }
    entries = entries[head...].filter(isCurrent)
    head = 0
  }
}
