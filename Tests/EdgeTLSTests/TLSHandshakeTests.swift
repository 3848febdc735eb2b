import Testing
import COpenSSL
import EdgeCore
@testable import EdgeTLS

@Suite("handshakes") struct TLSHandshakeTests {
  let certificates = TestCertificates.shared

  @Test("TLS 1.3 handshake with ALPN http/1.1") func tls13() throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(context: context)
    exchange.pump()
    let info = try #require(exchange.handshake)
    #expect(info.version == .tls13)
    #expect(info.applicationProtocol == "http/1.1")
    #expect(info.serverName == "a.test")
    #expect(info.resumed == false)
    #expect(info.cipher.hasPrefix("TLS_"))
    #expect(exchange.client.isEstablished)
    #expect(exchange.client.negotiatedProtocol == "http/1.1")
    #expect(exchange.client.presented(try #require(context.certificates.lookup(serverName: "a.test"))))
  }

  @Test("TLS 1.2 handshake uses ECDHE with an AEAD cipher", arguments: ["a.test", "b.test"])
  func tls12(name: String) throws {
    let context = try makeContext(["a.test", "b.test"])
    let exchange = try Exchange(context: context, .init(serverName: name, maxVersion: TLS1_2_VERSION))
    exchange.pump()
    let info = try #require(exchange.handshake)
    #expect(info.version == .tls12)
    #expect(info.cipher.hasPrefix("ECDHE-"))
    #expect(info.cipher.contains("GCM") || info.cipher.contains("CHACHA20"))
  }

  @Test("a TLS 1.2 client offering only RSA key exchange or CBC is refused")
  func tls12WeakCiphers() throws {
    let context = try makeContext(["b.test"])
    let exchange = try Exchange(
      context: context, .init(serverName: "b.test", maxVersion: TLS1_2_VERSION, ciphers: "AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA"))
    exchange.pump()
    #expect(exchange.handshake == nil)
    #expect(exchange.failure?.alert == 40)  // handshake_failure
    #expect(!exchange.client.isEstablished)
  }

  @Test("a client limited to TLS 1.1 is refused with protocol_version") func tls11Refused() throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(
      context: context,
      .init(minVersion: TLS1_VERSION, maxVersion: TLS1_1_VERSION, ciphers: "DEFAULT:@SECLEVEL=0"))
    exchange.pump()
    #expect(exchange.handshake == nil)
    let failure = try #require(exchange.failure)
    #expect(failure.alert == 70)
    #expect(!exchange.client.isEstablished)
    #expect(exchange.client.failure != nil)
  }

  @Test("a listener can require TLS 1.3") func tls13Only() throws {
    let context = try makeContext(["a.test"]) { $0.minVersion = .tls13 }
    let refused = try Exchange(context: context, .init(maxVersion: TLS1_2_VERSION))
    refused.pump()
    #expect(refused.failure?.alert == 70)
    let accepted = try Exchange(context: context)
    accepted.pump()
    #expect(accepted.handshake?.version == .tls13)
  }

  @Test("garbage instead of a ClientHello fails cleanly") func garbage() throws {
    let context = try makeContext(["a.test"])
    let session = try TLSSession(context: context)
    let junk: [UInt8] = Array("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n".utf8) + (0..<200).map { UInt8($0 % 251) }
    junk.withUnsafeBytes { session.feed($0) }
    let inbound = ByteBuffer()
    guard case .failed(let failure) = session.advance(into: inbound) else {
      Issue.record("garbage was not refused")
      return
    }
    #expect(!failure.reason.isEmpty)
    // Later calls keep failing; nothing crashes.
    guard case .failed = session.advance(into: inbound) else {
      Issue.record("failed session recovered")
      return
    }
    #expect(throws: TLSFailure.self) { try session.write(plaintext: [1, 2, 3]) }
  }

  @Test("garbage after the handshake fails the connection") func garbageAfterHandshake() throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(context: context)
    exchange.pump()
    #expect(exchange.handshake != nil)
    let junk = [UInt8](repeating: 0x17, count: 64)
    junk.withUnsafeBytes { exchange.server.feed($0) }
    guard case .failed = exchange.server.advance(into: exchange.serverInbound) else {
      Issue.record("garbage record was accepted")
      return
    }
  }
}
