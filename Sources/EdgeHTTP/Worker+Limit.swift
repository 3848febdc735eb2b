import EdgeCore
import Logging

extension Worker {
  /// Takes a slot for a connection just accepted. At `max_connections` the connection of this worker that
  /// has waited longest without a request under way is closed to make room, or, with none waiting here,
  /// one of another worker's; with none waiting anywhere, the new connection is refused (false: the
  /// caller closes it).
  func admit() -> Bool {
    if budget.claim() { return true }
    if evictLongestWaiting() || budget.askAnotherToEvict(from: evictor) {
      budget.claimReplacing()
      Self.evictedCounter.increment()
      noteLimitReached(evicted: true)
      return true
    }
    Self.refusedCounter.increment()
    noteLimitReached(evicted: false)
    return false
  }

  /// Registers `connection` as waiting from now on; it keeps the returned ticket.
  func startsWaiting(_ connection: HTTPConnection) -> UInt64 {
    let ticket = waiting.enter(ObjectIdentifier(connection))
    waiting.compact(connections: connectionCount) { isWaiting($0) }
    return ticket
  }

  private func evictLongestWaiting() -> Bool {
    waiting.takeOldest { entry in
      guard isWaiting(entry), let connection = connection(entry.id) else { return false }
      connection.assumeIsolated { $0.evict() }
      return true
    }
  }

  /// How another worker at the limit asks this one to evict (on this worker's loop).
  static func makeEvictor(for worker: Worker) -> ConnectionBudget.Evictor {
    ConnectionBudget.Evictor { [unowned worker] done in
      worker.loop.execute {
        _ = worker.evictLongestWaiting()  // counted by the worker that asked
        done()
      }
    }
  }

  /// Whether the entry's connection is still open and still waiting since that entry.
  private func isWaiting(_ entry: WaitingConnections.Entry) -> Bool {
    guard let connection = connection(entry.id) else { return false }
    return connection.assumeIsolated { $0.waitTicket == entry.ticket && $0.isWaiting }
  }

  /// One warning per worker every 10 s at most while the limit is being hit, with what it cost.
  private func noteLimitReached(evicted: Bool) {
    if evicted { limitEvents.evicted += 1 } else { limitEvents.refused += 1 }
    let now = loop.now
    guard limitEvents.warnedAt == 0 || now - limitEvents.warnedAt >= 10_000 else { return }
    logger.warning(
      "max_connections reached: waiting connections evicted, new ones refused when none was waiting",
      metadata: [
        "max_connections": "\(budget.limit)", "evicted": "\(limitEvents.evicted)", "refused": "\(limitEvents.refused)",
      ])
    limitEvents = (0, 0, now)
  }
}
