import Foundation
import Testing

@testable import EdgeACME

@Suite("issuance against pebble")
struct IssuanceTests {
  @Test("HTTP-01: a chain that verifies under pebble's root, solvers cleaned up, one kept-alive connection")
  func http01() async throws {
    try await withPebble { pebble in
      let solver = try HTTP01Solver.listening(on: pebble.httpPort)
      defer { solver.server.stop() }
      let transport = try pebble.transport()
      let client = ACMEClient(directoryURL: pebble.directoryURL, transport: transport, accountKey: try .generate())
      let key = try CertificateKey.generateP256()

      // One name on a fresh client: directory, nonce, account lookup and creation included.
      let started = ContinuousClock.now
      let single = try await client.obtain(names: ["one.http01.test"], csrDER: try key.csr(names: ["one.http01.test"]), solvers: [solver])
      print("HTTP-01 issuance, 1 name, new account: \(ContinuousClock.now - started)")

      let names = ["www.http01.test", "http01.test"]
      let again = ContinuousClock.now
      let certificate = try await client.obtain(names: names, csrDER: try key.csr(names: names), solvers: [solver])
      print("HTTP-01 issuance, 2 names, existing account: \(ContinuousClock.now - again)")

      let scratch = try ScratchDirectory()
      defer { scratch.remove() }
      let root = try await pebble.rootPEM()
      try await verifyChain(single.chainPEM, rootPEM: root, in: scratch)
      try await verifyChain(certificate.chainPEM, rootPEM: root, in: scratch)
      let leaf = try ACMELeafCertificate(chainPEM: certificate.chainPEM)
      #expect(Set(leaf.names) == Set(names))
      #expect(certificate.notBefore == leaf.notBefore && certificate.notAfter == leaf.notAfter)
      #expect(certificate.url.hasPrefix("https://127.0.0.1:\(pebble.listenPort)/"))
      let expected = (["one.http01.test"] + names).flatMap { ["present \($0)", "cleanUp \($0)"] }
      #expect(Set(solver.log.all) == Set(expected) && solver.log.all.count == expected.count)
      #expect(transport.connectionsOpened.withLock { $0 } == 1)
    }
  }

  @Test("TLS-ALPN-01: pebble validates the challenge certificate served with acme-tls/1")
  func tlsALPN01() async throws {
    try await withPebble { pebble in
      let server = try await TLSALPN01Solver.startServer(port: pebble.tlsPort, directory: pebble.scratch.url)
      defer { server.stop() }
      let solver = TLSALPN01Solver(directory: pebble.scratch.url)
      let names = ["alpn.test"]
      let certificate = try await pebble.client().obtain(
        names: names, csrDER: try CertificateKey.generateP256().csr(names: names), solvers: [solver])
      try await verifyChain(certificate.chainPEM, rootPEM: try await pebble.rootPEM(), in: pebble.scratch)
      #expect(solver.log.all == ["present alpn.test", "cleanUp alpn.test"])
      #expect(server.log.contains("served acme-tls/1"), "\(server.log)")
    }
  }

  @Test("DNS-01 through challtestsrv, with a wildcard and its base name in one order")
  func dns01Wildcard() async throws {
    try await withPebble { pebble in
      let solver = DNS01Solver(pebble: pebble)
      let names = ["*.wild.test", "wild.test"]
      let certificate = try await pebble.client().obtain(
        names: names, csrDER: try CertificateKey.generateP256().csr(names: names), solvers: [solver])
      try await verifyChain(certificate.chainPEM, rootPEM: try await pebble.rootPEM(), in: pebble.scratch)
      #expect(Set(try ACMELeafCertificate(chainPEM: certificate.chainPEM).names) == Set(names))
      #expect(solver.log.all.filter { $0.hasPrefix("present") }.sorted() == ["present *.wild.test", "present wild.test"])
    }
  }

  @Test("solver preference: the first solver whose type the CA offers is used")
  func solverPreference() async throws {
    try await withPebble { pebble in
      let dns = DNS01Solver(pebble: pebble)
      let http = try HTTP01Solver.listening(on: pebble.httpPort)
      defer { http.server.stop() }
      // The wildcard only offers dns-01; the plain name takes http-01, preferred.
      let names = ["pref.test", "*.pref.test"]
      _ = try await pebble.client().obtain(
        names: names, csrDER: try CertificateKey.generateP256().csr(names: names), solvers: [http, dns])
      #expect(http.log.all.filter { $0.hasPrefix("present") } == ["present pref.test"])
      #expect(dns.log.all.filter { $0.hasPrefix("present") } == ["present *.pref.test"])
    }
  }

  @Test("half of all nonces rejected (PEBBLE_WFE_NONCEREJECT=50): badNonce retries still get a certificate")
  func nonceRejection() async throws {
    try await withPebble(PebbleOptions(environment: ["PEBBLE_WFE_NONCEREJECT": "50"])) { pebble in
      let solver = try HTTP01Solver.listening(on: pebble.httpPort)
      defer { solver.server.stop() }
      let transport = CountingTransport(try pebble.transport())
      let client = ACMEClient(directoryURL: pebble.directoryURL, transport: transport, accountKey: try .generate())
      for round in 0..<2 {
        let names = ["n\(round).nonce.test"]
        _ = try await client.obtain(names: names, csrDER: try CertificateKey.generateP256().csr(names: names), solvers: [solver])
      }
      #expect(transport.badNonces > 0)
      print("nonce rejection: \(transport.badNonces) of \(transport.requests) requests answered badNonce")
    }
  }
}

/// Passes requests through and counts how many were answered with badNonce.
final class CountingTransport: ACMETransport, @unchecked Sendable {
  // Invariant: the counters are only touched under `lock`.
  private let inner: any ACMETransport
  private let lock = NSLock()
  private var counts = (requests: 0, badNonces: 0)

  init(_ inner: any ACMETransport) { self.inner = inner }

  var requests: Int { lock.withLock { counts.requests } }
  var badNonces: Int { lock.withLock { counts.badNonces } }

  func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse {
    let response = try await inner.send(request)
    let refused = response.status == 400 && String(decoding: response.body, as: UTF8.self).contains("badNonce")
    lock.withLock {
      counts.requests += 1
      if refused { counts.badNonces += 1 }
    }
    return response
  }
}
