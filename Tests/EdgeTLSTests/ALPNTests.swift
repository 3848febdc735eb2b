import Testing
@testable import EdgeTLS

@Suite("ALPN") struct ALPNTests {
  @Test("the server's preference wins among what the client offers", arguments: [
    (["http/1.1", "h2"], "h2" as String?),
    (["http/1.1"], "http/1.1"),
    (["acme-tls/1"], "acme-tls/1"),
    (["spdy/3", "h3"], nil),
    ([], nil),
  ])
  func selection(offered: [String], expected: String?) throws {
    let context = try makeContext(["a.test"]) { $0.applicationProtocols = ["h2", "http/1.1", "acme-tls/1"] }
    let exchange = try Exchange(context: context, .init(alpn: offered))
    exchange.pump()
    let info = try #require(exchange.handshake)
    #expect(info.applicationProtocol == expected)
    #expect(exchange.client.negotiatedProtocol == expected)
  }

  @Test("acme-tls/1 is not chosen unless the listener lists it") func acmeOnlyWhenAsked() throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(context: context, .init(alpn: ["acme-tls/1"]))
    exchange.pump()
    #expect(exchange.handshake?.applicationProtocol == nil)
  }

  @Test("protocol names must be 1 to 255 bytes") func invalidNames() {
    #expect(throws: OpenSSLError.self) { try TLSContext.wireFormat([""]) }
    #expect(throws: OpenSSLError.self) { try TLSContext.wireFormat([String(repeating: "x", count: 256)]) }
    #expect((try? TLSContext.wireFormat(["h2", "http/1.1"])) == [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8))
  }
}

@Suite("TLS-ALPN-01 answers") struct ChallengeCertificateTests {
  /// a.test's usual certificate is cached; the challenge certificate (here other.test's, standing in for
  /// the agent's self-signed one) is up for a.test.
  func context(_ challenges: ChallengeCertificates?) throws -> TLSContext {
    try makeContext(["a.test"]) { $0.challenges = challenges }
  }

  @Test func aValidatorGetsTheChallengeCertificateAndNothingElse() throws {
    let challenges = ChallengeCertificates()
    let challenge = try TestCertificates.shared.key("other.test")
    challenges.present(challenge, for: "A.test")
    let exchange = try Exchange(context: try context(challenges), .init(alpn: ["acme-tls/1"]))
    exchange.pump()
    #expect(exchange.client.negotiatedProtocol == "acme-tls/1")
    #expect(exchange.client.presented(challenge))
    #expect(exchange.server.isACMEValidation)
  }

  @Test func everyoneElseGetsTheSiteCertificate() throws {
    let challenges = ChallengeCertificates()
    challenges.present(try TestCertificates.shared.key("other.test"), for: "a.test")
    let usual = try TestCertificates.shared.key("a.test")
    for alpn in [["http/1.1"], ["acme-tls/1", "http/1.1"], []] {
      let exchange = try Exchange(context: try context(challenges), .init(alpn: alpn))
      exchange.pump()
      #expect(exchange.client.presented(usual), "ALPN \(alpn)")
      #expect(exchange.client.negotiatedProtocol != "acme-tls/1")
    }
  }

  @Test func withoutAPendingChallengeTheSiteCertificateIsServed() throws {
    let challenges = ChallengeCertificates()
    let exchange = try Exchange(context: try context(challenges), .init(alpn: ["acme-tls/1"]))
    exchange.pump()
    #expect(exchange.client.presented(try TestCertificates.shared.key("a.test")))
    #expect(exchange.client.negotiatedProtocol == nil)
    challenges.present(try TestCertificates.shared.key("other.test"), for: "a.test")
    challenges.remove(for: "a.test")
    #expect(challenges.certificate(for: "a.test") == nil)
  }
}
