import COpenSSL
import Testing

@testable import EdgeTLS

/// OCSP stapling (RFC 6066 §8) through a real OpenSSL client. The server staples bytes without reading
/// them, so any bytes stand in for a DER OCSPResponse here.
@Suite("OCSP stapling") struct OCSPStaplingTests {
  let certificates = TestCertificates.shared
  static let staple: [UInt8] = [0x30, 0x03, 0x0a, 0x01, 0x00] + Array("stand-in for an OCSPResponse".utf8)

  /// A context serving a fresh a.test key (so no other test sees its staple), and that key.
  func context() throws -> (TLSContext, CertifiedKey) {
    let key = try certificates.key("a.test")
    let cache = CertificateCache(defaultCertificate: nil)
    cache.insert(key)
    return (try TLSContext(certificates: cache), key)
  }

  func handshake(_ context: TLSContext, maxVersion: Int32, requestStatus: Bool) throws -> TestClient {
    let exchange = try Exchange(context: context, .init(maxVersion: maxVersion, requestStatus: requestStatus))
    exchange.pump()
    #expect(exchange.handshake != nil, "handshake failed: \(String(describing: exchange.failure))")
    return exchange.client
  }

  @Test("a client that asks gets exactly the bytes set on the certificate", arguments: [TLS1_3_VERSION, TLS1_2_VERSION])
  func stapled(maxVersion: Int32) throws {
    let (context, key) = try context()
    key.setOCSPResponse(Self.staple)
    let client = try handshake(context, maxVersion: maxVersion, requestStatus: true)
    #expect(client.stapledResponse == Self.staple)
  }

  @Test("no staple set: a client that asks gets none", arguments: [TLS1_3_VERSION, TLS1_2_VERSION])
  func noneSet(maxVersion: Int32) throws {
    let (context, key) = try context()
    #expect(try handshake(context, maxVersion: maxVersion, requestStatus: true).stapledResponse == nil)
    key.setOCSPResponse([])  // empty means none, too
    #expect(try handshake(context, maxVersion: maxVersion, requestStatus: true).stapledResponse == nil)
  }

  @Test("a client that does not ask gets none", arguments: [TLS1_3_VERSION, TLS1_2_VERSION])
  func notAsked(maxVersion: Int32) throws {
    let (context, key) = try context()
    key.setOCSPResponse(Self.staple)
    #expect(try handshake(context, maxVersion: maxVersion, requestStatus: false).stapledResponse == nil)
  }

  @Test("a new staple is served from the next handshake on; nil stops stapling") func replaced() throws {
    let (context, key) = try context()
    key.setOCSPResponse(Self.staple)
    #expect(try handshake(context, maxVersion: TLS1_3_VERSION, requestStatus: true).stapledResponse == Self.staple)
    let fresher = Self.staple + [0x01]
    key.setOCSPResponse(fresher)
    #expect(try handshake(context, maxVersion: TLS1_3_VERSION, requestStatus: true).stapledResponse == fresher)
    key.setOCSPResponse(nil)
    #expect(try handshake(context, maxVersion: TLS1_3_VERSION, requestStatus: true).stapledResponse == nil)
  }

  @Test("each certificate staples its own response") func perCertificate() throws {
    let a = try certificates.key("a.test")
    let b = try certificates.key("b.test")
    a.setOCSPResponse(Self.staple)
    b.setOCSPResponse(Self.staple + Array("b".utf8))
    let cache = CertificateCache(defaultCertificate: nil)
    cache.insert(a)
    cache.insert(b)
    let context = try TLSContext(certificates: cache)
    for (name, expected) in [("a.test", Self.staple), ("b.test", Self.staple + Array("b".utf8))] {
      let exchange = try Exchange(context: context, .init(serverName: name, requestStatus: true))
      exchange.pump()
      #expect(exchange.client.stapledResponse == expected, "\(name)")
    }
  }

  @Test("a certificate provided after a cache miss staples its response") func afterWaiting() throws {
    let key = try certificates.key("a.test")
    key.setOCSPResponse(Self.staple)
    let context = try TLSContext(certificates: CertificateCache(defaultCertificate: nil))
    let exchange = try Exchange(context: context, .init(requestStatus: true))
    exchange.pump()
    #expect(exchange.waitingFor == "a.test")
    exchange.server.provideCertificate(key)
    exchange.pump()
    #expect(exchange.handshake != nil)
    #expect(exchange.client.stapledResponse == Self.staple)
  }
}
