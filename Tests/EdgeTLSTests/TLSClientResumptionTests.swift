import Testing

@testable import EdgeTLS

/// Client-side resumption (HTTPS upstreams): a second connection made with the same context and key
/// offers the session the first one got, and the server takes it.
@Suite("TLS client resumption")
struct TLSClientResumptionTests {
  let certificates = TestCertificates.shared

  func connect(_ context: TLSClientContext, key: String?, server: TLSContext) throws -> TLSHandshake {
    let exchange = try ClientExchange(context, serverName: "a.test", resumptionKey: key, server: server)
    exchange.pump()
    // TLS 1.3 tickets come after the handshake: the client reads them with the first application data.
    try exchange.send("x")
    return try #require(exchange.clientHandshake, "client events: \(exchange.clientEvents)")
  }

  @Test("the same key resumes, TLS 1.3 and 1.2", arguments: [TLSVersion.tls13, .tls12])
  func resumes(version: TLSVersion) throws {
    let server = try makeContext(["a.test"]) { $0.maxVersion = version }
    let context = try TLSClientContext(configuration: TLSClientConfiguration(trustedCAFile: certificates.path("a.test", "crt")))
    #expect(try !connect(context, key: "a:443", server: server).resumed)
    #expect(try connect(context, key: "a:443", server: server).resumed)
    // A TLS 1.2 session serves again; a TLS 1.3 ticket once (RFC 8446 C.4), unless the server sent a new one.
    #expect(try connect(context, key: "a:443", server: server).resumed == (version == .tls12))
  }

  @Test("a fresh TLS 1.3 ticket replaces the one used")
  func freshTicket() throws {
    let server = try makeContext(["a.test"])
    let ring = try #require(server.configuration.ticketKeys)
    let context = try TLSClientContext(configuration: TLSClientConfiguration(trustedCAFile: certificates.path("a.test", "crt")))
    _ = try connect(context, key: "a:443", server: server)
    // Sealed by a key that is no longer the newest, the ticket resumes and the server sends a new one.
    ring.rotate()
    #expect(try connect(context, key: "a:443", server: server).resumed)
    #expect(try connect(context, key: "a:443", server: server).resumed)
  }

  @Test("a connection closed without close_notify leaves its session resumable")
  func quietClose() throws {
    let server = try makeContext(["a.test"]) { $0.maxVersion = .tls12 }
    let context = try TLSClientContext(configuration: TLSClientConfiguration(trustedCAFile: certificates.path("a.test", "crt")))
    // `connect` lets each exchange go without a shutdown, as a pool closing an idle connection does.
    for expected in [false, true, true, true] {
      #expect(try connect(context, key: "a:443", server: server).resumed == expected)
    }
  }

  @Test("other keys, no key, or another context start afresh")
  func isolated() throws {
    let server = try makeContext(["a.test"])
    let trusting = TLSClientConfiguration(trustedCAFile: certificates.path("a.test", "crt"))
    let context = try TLSClientContext(configuration: trusting)
    _ = try connect(context, key: "a:443", server: server)
    #expect(try !connect(context, key: "b:443", server: server).resumed)
    #expect(try !connect(context, key: nil, server: server).resumed)
    #expect(try !connect(TLSClientContext(configuration: trusting), key: "a:443", server: server).resumed)
  }
}
