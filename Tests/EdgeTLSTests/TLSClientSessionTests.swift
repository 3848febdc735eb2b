import Foundation
import Testing

@testable import EdgeTLS

/// The client side against edge's own server side, in memory: which names are checked, what SNI is
/// sent, what fails and why.
@Suite("TLS client sessions")
struct TLSClientSessionTests {
  let certificates = TestCertificates.shared
  /// Trusts a.test's self-signed certificate (which also issued chain.test).
  var trustingA: TLSClientConfiguration { TLSClientConfiguration(trustedCAFile: certificates.path("a.test", "crt")) }

  @Test("a server named in the certificate is verified; SNI carries the name; data reaches the server")
  func verifiesName() throws {
    let exchange = try ClientExchange(trustingA, serverName: "chain.test", server: try makeContext(["chain.test"]))
    exchange.pump()
    let info = try #require(exchange.clientHandshake, "client events: \(exchange.clientEvents)")
    #expect(info.version == .tls13)
    #expect(info.serverName == "chain.test")
    #expect(exchange.server.serverName == "chain.test")
    #expect(exchange.serverCompleted)
    try exchange.send("PING\r\n")
    #expect(exchange.serverReceived == "PING\r\n")
  }

  @Test("an IP address is checked against iPAddress entries and never sent as SNI")
  func verifiesAddress() throws {
    let exchange = try ClientExchange(trustingA, serverName: "127.0.0.1", server: try makeContext([], default: "a.test"))
    exchange.pump()
    #expect(exchange.clientHandshake != nil, "client events: \(exchange.clientEvents)")
    #expect(exchange.clientHandshake?.serverName == nil)
    #expect(exchange.server.serverName == nil)
  }

  @Test(
    "a certificate that does not name the server is refused",
    arguments: [("other.test", "hostname mismatch"), ("10.9.8.7", "IP address mismatch")])
  func refusesOtherName(_ name: String, _ why: String) throws {
    // The server answers every name with a.test's certificate (DNS a.test, www.a.test; IP 127.0.0.1, ::1).
    let exchange = try ClientExchange(trustingA, serverName: name, server: try makeContext([], default: "a.test"))
    exchange.pump()
    #expect(exchange.clientHandshake == nil)
    let failure = try #require(exchange.clientFailure)
    #expect(failure.reason == "certificate verification failed for \(name): \(why)")
    #expect(!exchange.serverCompleted)
  }

  @Test("a partial wildcard is not a match: *.wild.test covers a.wild.test, not a.b.wild.test")
  func wildcardDepth() throws {
    let configuration = TLSClientConfiguration(trustedCAFile: certificates.path("*.wild.test", "crt"))
    let context = try makeContext([], default: "*.wild.test")
    let good = try ClientExchange(configuration, serverName: "a.wild.test", server: context)
    good.pump()
    #expect(good.clientHandshake != nil, "client events: \(good.clientEvents)")
    let deep = try ClientExchange(configuration, serverName: "a.b.wild.test", server: context)
    deep.pump()
    #expect(deep.clientFailure?.reason.contains("hostname mismatch") == true)
  }

  @Test("a certificate from a CA outside the trusted set is refused (system roots by default)")
  func refusesUnknownIssuer() throws {
    let exchange = try ClientExchange(TLSClientConfiguration(), serverName: "chain.test", server: try makeContext(["chain.test"]))
    exchange.pump()
    let failure = try #require(exchange.clientFailure)
    #expect(failure.reason.hasPrefix("certificate verification failed for chain.test: "))
    #expect(failure.reason.contains("self-signed certificate in certificate chain"))

    let otherCA = TLSClientConfiguration(trustedCAFile: certificates.path("b.test", "crt"))
    let refused = try ClientExchange(otherCA, serverName: "chain.test", server: try makeContext(["chain.test"]))
    refused.pump()
    #expect(refused.clientFailure?.reason.contains("certificate verification failed") == true)
  }

  @Test("insecureSkipVerify accepts an unknown issuer and a wrong name, and still sends SNI")
  func insecure() throws {
    let exchange = try ClientExchange(
      TLSClientConfiguration(insecureSkipVerify: true), serverName: "other.test", server: try makeContext([], default: "b.test"))
    exchange.pump()
    #expect(exchange.clientHandshake != nil, "client events: \(exchange.clientEvents)")
    #expect(exchange.server.serverName == "other.test")
  }

  @Test("ALPN is offered when configured and the server's choice is reported")
  func alpn() throws {
    var configuration = trustingA
    configuration.applicationProtocols = ["h2", "http/1.1"]
    let exchange = try ClientExchange(configuration, serverName: "a.test", server: try makeContext(["a.test"]))
    exchange.pump()
    #expect(exchange.clientHandshake?.applicationProtocol == "http/1.1")
  }

  @Test("TLS 1.2 is the floor by default; a client asking for 1.3 refuses a 1.2-only server")
  func versions() throws {
    let tls12Server = try makeContext(["a.test"]) { $0.maxVersion = .tls12 }
    let exchange = try ClientExchange(trustingA, serverName: "a.test", server: tls12Server)
    exchange.pump()
    #expect(exchange.clientHandshake?.version == .tls12)

    var modern = trustingA
    modern.minVersion = .tls13
    let refused = try ClientExchange(modern, serverName: "a.test", server: tls12Server)
    refused.pump()
    #expect(refused.clientHandshake == nil)
    #expect(refused.clientFailure != nil)
  }

  @Test("files that do not load are errors that name them")
  func badFiles() throws {
    let missing = "/nonexistent/ca.pem"
    #expect {
      try TLSClientContext(configuration: TLSClientConfiguration(trustedCAFile: missing))
    } throws: { "\($0)".contains(missing) }
    #expect {
      try TLSClientContext(configuration: TLSClientConfiguration(privateKeyFile: certificates.path("a.test", "key")))
    } throws: { "\($0)".contains("no client certificate") }
    let mismatched = TLSClientConfiguration(
      certificateFile: certificates.path("a.test", "crt"), privateKeyFile: certificates.path("b.test", "key"))
    #expect {
      try TLSClientContext(configuration: mismatched)
    } throws: { "\($0)".contains("does not match") }
    // One file holding both certificate and key is fine.
    let both = certificates.directory + "/a.test.both.pem"
    let (chain, key) = certificates.pem("a.test")
    try (chain + key).write(toFile: both, atomically: true, encoding: .utf8)
    _ = try TLSClientContext(configuration: TLSClientConfiguration(certificateFile: both))
  }
}
