import Synchronization
import Testing

@testable import EdgeHTTP

/// `max_connections`: the shared count and who gives way at the limit (docs/limits.md).
@Suite struct ConnectionBudgetTests {
  @Test func claimsUpToTheLimitAndNoFurther() {
    let budget = ConnectionBudget(limit: 2)
    #expect(budget.claim() && budget.claim())
    #expect(!budget.claim())
    #expect(budget.openCount == 2)  // a refused claim takes nothing
    budget.release()
    #expect(budget.claim())
    budget.claimReplacing()  // a connection replacing an evicted one goes over until that one is released
    #expect(budget.openCount == 3)
    budget.setLimit(5)
    #expect(budget.claim())
  }

  @Test func anotherWorkerWithWaitingConnectionsIsAsked() {
    let budget = ConnectionBudget(limit: 1)
    let asked = Atomic<Int>(0)
    let busy = ConnectionBudget.Evictor { done in
      asked.add(100, ordering: .relaxed)
      done()
    }
    let idle = ConnectionBudget.Evictor { done in
      asked.add(1, ordering: .relaxed)
      done()
    }
    budget.register(busy)
    budget.register(idle)
    #expect(!budget.askAnotherToEvict(from: busy))  // nobody else has anyone waiting
    idle.waiting.store(3, ordering: .relaxed)
    #expect(budget.askAnotherToEvict(from: busy))
    #expect(asked.load(ordering: .relaxed) == 1)
    #expect(!budget.askAnotherToEvict(from: idle))  // never itself
  }

  @Test func defaultFollowsOpenFilesAndMemory() {
    let gib: UInt64 = 1 << 30
    #expect(ConnectionBudget.defaultLimit(openFiles: 20_000, memoryBytes: 23 * gib) == 9_936)
    // 1 GiB: half of it at 320 KiB a connection.
    #expect(ConnectionBudget.defaultLimit(openFiles: 1_048_576, memoryBytes: gib) == 1_638)
    #expect(ConnectionBudget.defaultLimit(openFiles: 100, memoryBytes: 64 * gib) == 64)
  }
}

@Suite struct WaitingConnectionsTests {
  final class Probe {}

  @Test func oldestFirstSkippingStaleEntries() {
    let (a, b, c) = (Probe(), Probe(), Probe())
    var waiting = WaitingConnections()
    let ticketA = waiting.enter(ObjectIdentifier(a))
    _ = waiting.enter(ObjectIdentifier(b))
    let ticketA2 = waiting.enter(ObjectIdentifier(a))  // a served a request and waits again
    _ = waiting.enter(ObjectIdentifier(c))
    var current = [ObjectIdentifier(a): ticketA2]
    current[ObjectIdentifier(b)] = 2
    current[ObjectIdentifier(c)] = 4
    var taken: [ObjectIdentifier] = []
    let take = { (entry: WaitingConnections.Entry) -> Bool in
      guard current[entry.id] == entry.ticket else { return false }
      taken.append(entry.id)
      return true
    }
    #expect(ticketA != ticketA2)
    var found = waiting.takeOldest(take)
    #expect(found)
    #expect(taken == [ObjectIdentifier(b)])  // a's first entry is stale: b has waited longest
    found = waiting.takeOldest(take)
    #expect(found && taken.last == ObjectIdentifier(a))
    found = waiting.takeOldest(take)
    #expect(found && taken.last == ObjectIdentifier(c))
    found = waiting.takeOldest(take)
    #expect(!found)
    #expect(waiting.count == 0)
  }

  @Test func compactionKeepsOnlyCurrentEntries() {
    let probe = Probe()
    var waiting = WaitingConnections()
    var last: UInt64 = 0
    for _ in 0..<5_000 { last = waiting.enter(ObjectIdentifier(probe)) }
    waiting.compact(connections: 1) { $0.ticket == last }
    #expect(waiting.count == 1)
    waiting.compact(connections: 1) { _ in false }
    #expect(waiting.count == 1)  // under the threshold: left alone
  }
}
