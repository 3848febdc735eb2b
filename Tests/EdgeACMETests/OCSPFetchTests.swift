import Foundation
import Testing

@testable import EdgeACME

/// Fetching OCSP responses to staple, from a real `openssl ocsp` responder on 127.0.0.1.
@Suite("OCSP: fetching responses to staple") struct OCSPFetchTests {
  let transport: ACMEHTTPSTransport

  init() throws {
    var configuration = ACMEHTTPSTransport.Configuration()
    configuration.allowInsecureHTTP = true
    configuration.connectTimeout = .seconds(5)
    configuration.requestTimeout = .seconds(10)
    transport = try ACMEHTTPSTransport(configuration: configuration)
  }

  /// A PKI, a responder signing as `signer`, and a leaf (serial 1001, listed good) pointing at it.
  func setUp(signer: String = "intermediate", extra: [String] = ["-nmin", "10"]) throws
    -> (OCSPTestPKI, OCSPResponder, chain: String)
  {
    let pki = try OCSPTestPKI()
    let responder = try OCSPResponder(pki: pki, signer: signer, extra: extra)
    do {
      let chain = try pki.leaf("leaf.test", serial: "1001", ocspURL: responder.url)
      try pki.writeIndex([.valid(serial: "1001", name: "leaf.test")])
      return (pki, responder, chain)
    } catch {
      responder.stop()
      throw error
    }
  }

  @Test("a good answer signed by the issuer is returned, with its times and a refresh halfway")
  func good() async throws {
    let (_, responder, chain) = try setUp()
    defer { responder.stop() }
    let before = Date()
    let staple = try #require(try await OCSPFetch.staple(chainPEM: chain, transport: transport))
    #expect(staple.status == .good)
    #expect(staple.isStapleable)
    #expect(staple.revokedAt == nil)
    #expect(abs(staple.thisUpdate.timeIntervalSince(before)) < 5)
    let nextUpdate = try #require(staple.nextUpdate)
    #expect(nextUpdate.timeIntervalSince(staple.thisUpdate) == 600)  // -nmin 10
    #expect(staple.refreshDate(now: staple.thisUpdate) == staple.thisUpdate.addingTimeInterval(300))
    #expect(staple.der.first == 0x30 && staple.der.count > 100)
    #expect(responder.requestCount == 1)
  }

  @Test("a revoked certificate is reported revoked once the responder lists it so")
  func revoked() async throws {
    let (pki, responder, chain) = try setUp()
    defer { responder.stop() }
    #expect(try await OCSPFetch.staple(chainPEM: chain, transport: transport)?.status == .good)

    let revokedAt = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 3600).rounded(.down))
    try pki.writeIndex([.revoked(serial: "1001", name: "leaf.test", at: revokedAt)])
    let staple = try #require(try await OCSPFetch.staple(chainPEM: chain, transport: transport))
    #expect(staple.status == .revoked)
    #expect(!staple.isStapleable)
    #expect(staple.revokedAt == revokedAt)
  }

  @Test("a certificate the responder does not list is unknown, and not stapleable")
  func unknown() async throws {
    let (pki, responder, _) = try setUp()
    defer { responder.stop() }
    let stranger = try pki.leaf("stranger.test", serial: "2002", ocspURL: responder.url)
    let staple = try #require(try await OCSPFetch.staple(chainPEM: stranger, transport: transport))
    #expect(staple.status == .unknown)
    #expect(!staple.isStapleable)
  }

  @Test("a responder that is down is an error")
  func responderDown() async throws {
    let (_, responder, chain) = try setUp()
    responder.stop()
    let error = await #expect(throws: ACMEError.self) { try await OCSPFetch.staple(chainPEM: chain, transport: transport) }
    #expect(error?.kind == .transport)
    #expect(error?.description.hasPrefix("OCSP from \(responder.url): ") == true, "\(String(describing: error))")
  }

  @Test("an answer signed with another key in the issuer's name is refused")
  func impostor() async throws {
    let (_, responder, chain) = try setUp(signer: "impostor")
    defer { responder.stop() }
    let error = await #expect(throws: ACMEError.self) { try await OCSPFetch.staple(chainPEM: chain, transport: transport) }
    #expect(error?.kind == .crypto)
    #expect(error?.message.contains("signature failure") == true, "\(String(describing: error))")
  }

  @Test("a corrupted signature is refused")
  func badSignature() async throws {
    let (_, responder, chain) = try setUp(extra: ["-nmin", "10", "-badsig"])
    defer { responder.stop() }
    let error = await #expect(throws: ACMEError.self) { try await OCSPFetch.staple(chainPEM: chain, transport: transport) }
    #expect(error?.message.contains("signature failure") == true, "\(String(describing: error))")
  }

  @Test("a responder the issuer delegated to (id-kp-OCSPSigning) is trusted")
  func delegated() async throws {
    let (_, responder, chain) = try setUp(signer: "delegated")
    defer { responder.stop() }
    #expect(try await OCSPFetch.staple(chainPEM: chain, transport: transport)?.status == .good)
  }

  @Test("a certificate from the issuer without id-kp-OCSPSigning may not answer for it")
  func undelegated() async throws {
    let (_, responder, chain) = try setUp(signer: "undelegated")
    defer { responder.stop() }
    let error = await #expect(throws: ACMEError.self) { try await OCSPFetch.staple(chainPEM: chain, transport: transport) }
    #expect(error?.message.contains("missing ocspsigning usage") == true, "\(String(describing: error))")
  }

  @Test("an issuer that signs by key ID and sends no certificate (as Let's Encrypt does) is trusted")
  func noCertificatesInResponse() async throws {
    let (_, responder, chain) = try setUp(extra: ["-nmin", "10", "-resp_no_certs", "-resp_key_id"])
    defer { responder.stop() }
    #expect(try await OCSPFetch.staple(chainPEM: chain, transport: transport)?.status == .good)
  }

  @Test("without nextUpdate the answer stands, and is refreshed an hour later")
  func noNextUpdate() async throws {
    let (_, responder, chain) = try setUp(extra: [])
    defer { responder.stop() }
    let staple = try #require(try await OCSPFetch.staple(chainPEM: chain, transport: transport))
    #expect(staple.nextUpdate == nil)
    let now = Date()
    #expect(staple.refreshDate(now: now) == now.addingTimeInterval(3600))
  }

  @Test("nothing to fetch without an OCSP URL or an issuer; a chain whose issuer did not sign the leaf is an error")
  func nothingToFetch() async throws {
    let pki = try OCSPTestPKI()
    let unlisted = try pki.leaf("plain.test", serial: "3003", ocspURL: nil)
    #expect(try await OCSPFetch.staple(chainPEM: unlisted, transport: transport) == nil)
    let listed = try pki.leaf("alone.test", serial: "4004", ocspURL: "http://127.0.0.1:9/")
    let leafOnly = String(listed[..<listed.range(of: "-----END CERTIFICATE-----\n")!.upperBound])
    #expect(try await OCSPFetch.staple(chainPEM: leafOnly, transport: transport) == nil)
    let error = await #expect(throws: ACMEError.self) {
      try await OCSPFetch.staple(chainPEM: leafOnly + pki.pem("root"), transport: self.transport)
    }
    #expect(error?.kind == .invalidInput)
  }
}
