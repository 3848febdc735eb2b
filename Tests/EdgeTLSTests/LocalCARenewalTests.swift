import Foundation
import Testing

@testable import EdgeTLS

@Suite("local CA: intermediate renewal")
struct LocalCARenewalTests {
  private let day = 86400

  @Test("reopened with 2 of 7 days left, the intermediate is renewed and the root untouched")
  func renewsOnLoad() throws {
    let scratch = try ScratchDirectory()
    let start = unixNow()
    let first = try LocalCA(directory: scratch.caDirectory, now: { start })
    let rootCertificate = try scratch.read("root.crt")
    let rootKey = try scratch.read("root.key")
    let oldIntermediateKey = try scratch.read("intermediate.key")

    let later = start + 5 * day
    let second = try LocalCA(directory: scratch.caDirectory, now: { later })
    #expect(second.intermediatePEM != first.intermediatePEM)
    #expect(try scratch.read("intermediate.crt") == second.intermediatePEM)
    #expect(try scratch.read("intermediate.key") != oldIntermediateKey)
    #expect(try mode(of: scratch.file("intermediate.key")) == 0o600)
    #expect(try scratch.read("root.crt") == rootCertificate)
    #expect(try scratch.read("root.key") == rootKey)
    #expect(second.rootFingerprintSHA256 == first.rootFingerprintSHA256)

    let renewed = try X509Certificate(pem: second.intermediatePEM)
    #expect(renewed.notBefore == later - 60)
    #expect(renewed.notAfter == later + 7 * day)
    let verify = try openssl([
      "verify", "-attime", "\(later)", "-CAfile", scratch.file("root.crt"), scratch.file("intermediate.crt"),
    ])
    #expect(verify.status == 0, "\(verify.output)")
  }

  @Test("reopened with 6 of 7 days left, the intermediate is kept")
  func keepsFreshIntermediate() throws {
    let scratch = try ScratchDirectory()
    let start = unixNow()
    let first = try LocalCA(directory: scratch.caDirectory, now: { start })
    let second = try LocalCA(directory: scratch.caDirectory, now: { start + self.day })
    #expect(second.intermediatePEM == first.intermediatePEM)
  }

  @Test("issue renews a due intermediate while running, and the leaf chains to the new one")
  func renewsWhileIssuing() throws {
    let scratch = try ScratchDirectory()
    let clock = ManualClock()
    let ca = try LocalCA(directory: scratch.caDirectory, now: { clock.now })
    let original = ca.intermediatePEM
    _ = try ca.issue(for: ["localhost"])
    #expect(ca.intermediatePEM == original)

    clock.advance(by: 5 * day)
    let issued = try ca.issue(for: ["localhost"])
    #expect(ca.intermediatePEM != original)
    #expect(issued.chainPEM.hasSuffix(ca.intermediatePEM))
    #expect(try scratch.read("intermediate.crt") == ca.intermediatePEM)
    try scratch.write(issued.chainPEM, to: "chain.pem")
    let verify = try openssl([
      "verify", "-attime", "\(clock.now)", "-CAfile", scratch.file("root.crt"), "-untrusted", scratch.file("intermediate.crt"),
      scratch.file("chain.pem"),
    ])
    #expect(verify.status == 0, "\(verify.output)")
  }

  @Test("another process's renewal is adopted, not repeated")
  func adoptsRenewalFromDisk() throws {
    let scratch = try ScratchDirectory()
    let clock = ManualClock()
    let running = try LocalCA(directory: scratch.caDirectory, now: { clock.now })
    clock.advance(by: 5 * day)
    let other = try LocalCA(directory: scratch.caDirectory, now: { clock.now })  // renews on disk
    _ = try running.issue(for: ["localhost"])
    #expect(running.intermediatePEM == other.intermediatePEM)
  }

  @Test("the intermediate lifetime is injectable")
  func injectableLifetime() throws {
    let scratch = try ScratchDirectory()
    let start = unixNow()
    let ca = try LocalCA(directory: scratch.caDirectory, lifetimes: .init(intermediate: .seconds(600)), now: { start })
    let intermediate = try X509Certificate(pem: ca.intermediatePEM)
    #expect(intermediate.notAfter - intermediate.notBefore == 660)
    let root = try X509Certificate(pem: ca.rootPEM)
    #expect(root.notAfter - root.notBefore == 10 * 365 * day + 60)
    // 1/3 of 660 s is 220 s: due once fewer than 220 s are left.
    let kept = try LocalCA(directory: scratch.caDirectory, now: { start + 370 })
    #expect(kept.intermediatePEM == ca.intermediatePEM)
    let renewed = try LocalCA(directory: scratch.caDirectory, now: { start + 390 })
    #expect(renewed.intermediatePEM != ca.intermediatePEM)
  }

  @Test("an intermediate key that is not the certificate's (a crash mid-renewal) is replaced")
  func replacesMismatchedIntermediate() throws {
    let scratch = try ScratchDirectory()
    let first = try LocalCA(directory: scratch.caDirectory)
    let rootKey = try scratch.read("root.key")
    try scratch.write(try PrivateKey.generateP256().pem(), to: "intermediate.key")
    let second = try LocalCA(directory: scratch.caDirectory)
    #expect(second.intermediatePEM != first.intermediatePEM)
    let certificate = try X509Certificate(pem: scratch.read("intermediate.crt"))
    #expect(try PrivateKey(pem: scratch.read("intermediate.key")).matches(certificate))
    #expect(try scratch.read("root.key") == rootKey)
  }
}
