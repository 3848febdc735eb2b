import EdgeServer
import EdgeStorage
import Foundation
import Testing

@Suite struct RenewalPolicyTests {
  let start = Date(timeIntervalSince1970: 1_800_000_000)
  var end: Date { start.addingTimeInterval(90 * 86400) }

  @Test func twoThirdsOfTheLifetimeWithJitterBefore() {
    let policy = RenewalPolicy()
    #expect(policy.dueDate(notBefore: start, notAfter: end, jitter: 0) == start.addingTimeInterval(60 * 86400))
    let jittered = policy.dueDate(notBefore: start, notAfter: end, jitter: 0.999)
    #expect(jittered < start.addingTimeInterval(60 * 86400))
    #expect(jittered > start.addingTimeInterval(60 * 86400 - 0.9 * 86400 - 1))
  }

  @Test func theConfiguredRatio() {
    let policy = RenewalPolicy(ratio: 0.5)
    #expect(policy.dueDate(notBefore: start, notAfter: end, jitter: 0) == start.addingTimeInterval(45 * 86400))
  }

  @Test func aCASuggestedWindowWins() {
    let window = CertificateMetadata.RenewalInfo(
      windowStart: start.addingTimeInterval(10 * 86400), windowEnd: start.addingTimeInterval(12 * 86400))
    let metadata = CertificateMetadata(
      issuer: "https://ca.test/dir", names: ["a.test"], notBefore: start, notAfter: end, ari: window, obtainedAt: start)
    let policy = RenewalPolicy()
    #expect(policy.dueDate(metadata, jitter: 0) == window.windowStart)
    #expect(policy.dueDate(metadata, jitter: 0.5) == start.addingTimeInterval(11 * 86400))
    var noWindow = metadata
    noWindow.ari = nil
    #expect(policy.dueDate(noWindow, jitter: 0) == start.addingTimeInterval(60 * 86400))
  }
}
