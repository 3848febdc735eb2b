import Dispatch
import Glibc
import Synchronization
import Testing
@testable import EdgeTLS

/// A source that answers after a delay on another thread, counting lookups.
final class SlowSource: CertificateSource {
  let lookups = Atomic<Int>(0)
  let answer: CertifiedKey?
  init(answer: CertifiedKey?) { self.answer = answer }

  func certificate(for serverName: String, _ done: @escaping @Sendable (CertifiedKey?) -> Void) {
    lookups.add(1, ordering: .relaxed)
    let answer = self.answer
    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { done(answer) }
  }
}

/// Waits (off any loop) until `condition` holds or 10 s pass.
func eventually(_ condition: () -> Bool) -> Bool {
  for _ in 0..<1000 {
    if condition() { return true }
    usleep(10_000)
  }
  return condition()
}

@Suite("single flight") struct SingleFlightTests {
  @Test("100 waiters from many threads cause one run, and all get its answer") func coalesces() {
    let flights = SingleFlight<String, Int>()
    let runs = Atomic<Int>(0)
    let answered = Mutex<[Int]>([])
    let release = DispatchSemaphore(value: 0)
    DispatchQueue.concurrentPerform(iterations: 100) { _ in
      flights.run("a.test", waiter: { value in answered.withLock { $0.append(value) } }) { complete in
        runs.add(1, ordering: .relaxed)
        DispatchQueue.global().async {
          release.wait()  // finish only after every waiter has joined
          complete(42)
        }
      }
    }
    release.signal()
    #expect(eventually { answered.withLock { $0.count } == 100 })
    #expect(runs.load(ordering: .relaxed) == 1)
    #expect(answered.withLock { $0.allSatisfy { $0 == 42 } })
    #expect(flights.pendingKeys == 0)
  }

  @Test("different keys run separately; a finished key runs again") func separateKeys() {
    let flights = SingleFlight<String, Int>()
    var runs: [String] = []
    for key in ["a", "b", "a"] {
      flights.run(key, waiter: { _ in }) { complete in
        runs.append(key)
        complete(1)
      }
    }
    #expect(runs == ["a", "b", "a"])
  }

  @Test("100 handshakes waiting for one name cause one source lookup") func handshakes() throws {
    let certificates = TestCertificates.shared
    let context = try makeContext([])
    let key = try certificates.key("other.test")
    let source = SlowSource(answer: key)
    let lookup = CoalescingCertificateSource(source, filling: context.certificates)

    let exchanges = try (0..<100).map { _ in try Exchange(context: context, .init(serverName: "other.test")) }
    let answers = Mutex<[Int: CertifiedKey?]>([:])
    for (index, exchange) in exchanges.enumerated() {
      exchange.pump()
      let name = try #require(exchange.waitingFor)
      lookup.certificate(for: name) { key in answers.withLock { $0[index] = key } }
    }
    #expect(eventually { answers.withLock { $0.count } == 100 })
    #expect(source.lookups.load(ordering: .relaxed) == 1)

    // Back "on the loop": hand each session its answer.
    let received = answers.withLock { $0 }
    for (index, exchange) in exchanges.enumerated() {
      exchange.server.provideCertificate(received[index] ?? nil)
      exchange.pump()
      #expect(exchange.handshake != nil)
      #expect(exchange.client.presented(key))
    }
    // The answer went into the cache: the next handshake does not wait.
    let later = try Exchange(context: context, .init(serverName: "other.test"))
    later.pump()
    #expect(later.waitingFor == nil)
    #expect(later.handshake != nil)
    #expect(source.lookups.load(ordering: .relaxed) == 1)
  }

  @Test("a nil answer reaches every waiter and is not cached") func nilAnswer() {
    let source = SlowSource(answer: nil)
    let cache = CertificateCache()
    let lookup = CoalescingCertificateSource(source, filling: cache)
    let answers = Atomic<Int>(0)
    for _ in 0..<10 {
      lookup.certificate(for: "nobody.test") { key in if key == nil { answers.add(1, ordering: .relaxed) } }
    }
    #expect(eventually { answers.load(ordering: .relaxed) == 10 })
    #expect(source.lookups.load(ordering: .relaxed) == 1)
    #expect(cache.lookup(serverName: "nobody.test") == nil)
  }
}
