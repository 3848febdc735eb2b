import Testing
@testable import EdgeTLS

@Suite("choosing the certificate") struct CertificateSelectionTests {
  let certificates = TestCertificates.shared

  @Test("two names get their own certificates (EC and RSA)") func twoNames() throws {
    let context = try makeContext(["a.test", "b.test"])
    let cache = context.certificates
    for name in ["a.test", "b.test", "WWW.A.TEST"] {
      let exchange = try Exchange(context: context, .init(serverName: name))
      exchange.pump()
      #expect(exchange.handshake?.serverName == name.lowercased())
      #expect(exchange.client.presented(try #require(cache.lookup(serverName: name))))
    }
    #expect(cache.lookup(serverName: "a.test") !== cache.lookup(serverName: "b.test"))
  }

  @Test("a wildcard covers exactly one label") func wildcard() throws {
    let context = try makeContext(["*.wild.test"])
    let wildcard = try #require(context.certificates.lookup(serverName: "x.wild.test"))
    let covered = try Exchange(context: context, .init(serverName: "x.wild.test"))
    covered.pump()
    #expect(covered.client.presented(wildcard))
    let deeper = try Exchange(context: context, .init(serverName: "a.b.wild.test"))
    deeper.pump()
    #expect(deeper.waitingFor == "a.b.wild.test")
    #expect(context.certificates.lookup(serverName: "wild.test") == nil)
  }

  @Test("the chain's intermediates are sent") func chain() throws {
    let context = try makeContext(["chain.test"])
    let exchange = try Exchange(context: context, .init(serverName: "chain.test"))
    exchange.pump()
    #expect(exchange.handshake != nil)
    #expect(exchange.client.peerChainLength == 2)
  }

  @Test("after a cache swap the next handshake gets the new certificate") func swap() throws {
    let context = try makeContext(["a.test"])
    let old = try #require(context.certificates.lookup(serverName: "a.test"))
    let before = try Exchange(context: context)
    before.pump()
    #expect(before.client.presented(old))

    let renewed = try certificates.key("a2.test")
    context.certificates.replace(old, with: renewed)
    let after = try Exchange(context: context)
    after.pump()
    #expect(after.handshake != nil)
    #expect(after.client.presented(renewed))
    #expect(!after.client.presented(old))
    // Names only the old certificate had are gone with it.
    #expect(context.certificates.lookup(serverName: "www.a.test") == nil)
  }

  @Test("a miss waits, then the provided certificate completes the handshake") func missThenProvide() throws {
    let context = try makeContext([])
    let exchange = try Exchange(context: context, .init(serverName: "other.test"))
    exchange.pump()
    #expect(exchange.waitingFor == "other.test")
    #expect(exchange.handshake == nil)
    // The client's bytes keep coming in while we wait; the session only says "nothing to do".
    #expect(exchange.pump().isEmpty)

    let key = try certificates.key("other.test")
    exchange.server.provideCertificate(key)
    exchange.pump()
    #expect(exchange.handshake?.serverName == "other.test")
    #expect(exchange.client.presented(key))
    #expect(exchange.server.certificate === key)
    #expect(exchange.events.filter { if case .waitingForCertificate = $0 { true } else { false } }.count == 1)
  }

  @Test("a miss answered with nil sends unrecognized_name (112)") func missThenNil() throws {
    let context = try makeContext([])
    let exchange = try Exchange(context: context, .init(serverName: "nobody.test"))
    exchange.pump()
    exchange.server.provideCertificate(nil)
    exchange.pump()
    let failure = try #require(exchange.failure)
    #expect(failure.alert == 112)
    #expect(failure.reason.contains("nobody.test"))
    #expect(exchange.client.receivedAlert == 112)
    #expect(!exchange.client.isEstablished)
  }

  @Test("a miss answered with nil falls back to the default certificate") func missThenDefault() throws {
    let context = try makeContext([], default: "default.test")
    let exchange = try Exchange(context: context, .init(serverName: "nobody.test"))
    exchange.pump()
    exchange.server.provideCertificate(nil)
    exchange.pump()
    #expect(exchange.handshake != nil)
    #expect(exchange.client.presented(try #require(context.certificates.defaultCertificate)))
  }

  @Test("no SNI: the default certificate, or 112 without one") func noServerName() throws {
    let withDefault = try makeContext(["a.test"], default: "default.test")
    let served = try Exchange(context: withDefault, .init(serverName: nil))
    served.pump()
    #expect(served.handshake?.serverName == nil)
    #expect(served.client.presented(try #require(withDefault.certificates.defaultCertificate)))

    let withoutDefault = try makeContext(["a.test"])
    let refused = try Exchange(context: withoutDefault, .init(serverName: nil))
    refused.pump()
    #expect(refused.waitingFor == nil)
    #expect(refused.failure?.alert == 112)
    #expect(refused.client.receivedAlert == 112)
  }

  @Test("a certificate removed from the cache is no longer served") func removal() throws {
    let context = try makeContext(["a.test", "b.test"])
    context.certificates.remove(name: "b.test")
    let exchange = try Exchange(context: context, .init(serverName: "b.test"))
    exchange.pump()
    #expect(exchange.waitingFor == "b.test")
  }
}

@Suite("key exchange groups") struct GroupTests {
  @Test("a HelloRetryRequest after a certificate wait keeps the chosen certificate") func helloRetry() throws {
    let context = try makeContext([])
    // The server prefers P-256 to P-384 (X25519:P-256:P-384), so it asks again for P-256: the
    // client-hello callback runs a third time, after the wait and after the retry.
    let exchange = try Exchange(context: context, .init(serverName: "other.test", groups: "P-384:P-256"))
    exchange.pump()
    #expect(exchange.waitingFor == "other.test")
    let key = try TestCertificates.shared.key("other.test")
    exchange.server.provideCertificate(key)
    exchange.pump()
    #expect(exchange.handshake?.version == .tls13)
    #expect(exchange.client.presented(key))
  }

  @Test("a client with no group in common is refused") func noCommonGroup() throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(context: context, .init(groups: "P-521"))
    exchange.pump()
    #expect(exchange.handshake == nil)
    #expect(exchange.failure?.alert == 40)
  }
}
