import Foundation
import Testing

@testable import EdgeACME

/// Answers that must never become staples, replayed without a responder.
@Suite("OCSP: refusing bad answers") struct OCSPResponseCheckTests {
  /// Always answers with `response`.
  struct CannedTransport: ACMETransport {
    let response: ACMEHTTPResponse
    func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse { response }
  }

  /// Hands each request to `transport` and records the bodies that came back.
  final class RecordingTransport: ACMETransport, @unchecked Sendable {
    // Invariant: tests send one request at a time and read `bodies` after it returned.
    let transport: any ACMETransport
    private(set) var bodies: [[UInt8]] = []
    init(_ transport: any ACMETransport) { self.transport = transport }
    func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse {
      let response = try await transport.send(request)
      bodies.append(response.body)
      return response
    }
  }

  static let chainURL = "http://127.0.0.1:9/"

  func canned(_ status: Int, _ body: [UInt8]) -> CannedTransport { CannedTransport(response: ACMEHTTPResponse(status: status, body: body)) }

  /// A good answer for leaf.test (serial 1001) from a real responder, with the PKI.
  func recordedAnswer() async throws -> (OCSPTestPKI, chain: String, der: [UInt8]) {
    let pki = try OCSPTestPKI()
    let responder = try OCSPResponder(pki: pki)
    defer { responder.stop() }
    let chain = try pki.leaf("leaf.test", serial: "1001", ocspURL: responder.url)
    try pki.writeIndex([.valid(serial: "1001", name: "leaf.test")])
    var configuration = ACMEHTTPSTransport.Configuration()
    configuration.allowInsecureHTTP = true
    let recorder = RecordingTransport(try ACMEHTTPSTransport(configuration: configuration))
    let staple = try #require(try await OCSPFetch.staple(chainPEM: chain, transport: recorder))
    #expect(staple.der == recorder.bodies.first, "the staple is the responder's bytes, unchanged")
    return (pki, chain, staple.der)
  }

  @Test("an answer is refused before its thisUpdate (beyond 5 minutes of skew) and from its nextUpdate on")
  func times() async throws {
    let (_, chain, der) = try await recordedAnswer()
    let replay = canned(200, der)
    let staple = try #require(try await OCSPFetch.staple(chainPEM: chain, transport: replay))
    let nextUpdate = try #require(staple.nextUpdate)

    let early = try await OCSPFetch.staple(chainPEM: chain, transport: replay, now: staple.thisUpdate - 240)
    #expect(early?.status == .good, "within the allowed skew")
    let tooEarly = await #expect(throws: ACMEError.self) {
      try await OCSPFetch.staple(chainPEM: chain, transport: replay, now: staple.thisUpdate - 600)
    }
    #expect(tooEarly?.message.contains("not yet valid") == true)
    let late = try await OCSPFetch.staple(chainPEM: chain, transport: replay, now: nextUpdate - 1)
    #expect(late?.status == .good)
    let expired = await #expect(throws: ACMEError.self) {
      try await OCSPFetch.staple(chainPEM: chain, transport: replay, now: nextUpdate)
    }
    #expect(expired?.message.contains("expired") == true)
  }

  @Test("an answer about another certificate is refused")
  func otherCertificate() async throws {
    let (pki, _, der) = try await recordedAnswer()
    let other = try pki.leaf("other.test", serial: "1002", ocspURL: Self.chainURL)
    let error = await #expect(throws: ACMEError.self) {
      try await OCSPFetch.staple(chainPEM: other, transport: canned(200, der))
    }
    #expect(error?.message == "the response holds no answer for this certificate")
  }

  @Test("HTTP errors, bodies that are not one OCSPResponse, and unsuccessful statuses are refused")
  func malformed() async throws {
    let (_, chain, der) = try await recordedAnswer()
    let cases: [(CannedTransport, ACMEError.Kind, String)] = [
      (canned(500, der), .server, "responder answered HTTP 500"),
      (canned(200, []), .protocolViolation, "empty response body"),
      (canned(200, Array("<html>".utf8)), .protocolViolation, "the body is not a DER OCSPResponse"),
      (canned(200, der + [0]), .protocolViolation, "1 bytes after the OCSPResponse"),
      (canned(200, [0x30, 0x03, 0x0a, 0x01, 0x06]), .server, "responder answered 'unauthorized' (6)"),
      (canned(200, [0x30, 0x03, 0x0a, 0x01, 0x03]), .server, "responder answered 'trylater' (3)"),
    ]
    for (transport, kind, message) in cases {
      let error = await #expect(throws: ACMEError.self) { try await OCSPFetch.staple(chainPEM: chain, transport: transport) }
      #expect(error?.kind == kind, "\(message)")
      #expect(error?.message == message)
    }
  }

  @Test("refresh comes halfway to nextUpdate, but at least a minute and at most a day away")
  func refreshDate() {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    func staple(_ thisUpdate: TimeInterval, _ nextUpdate: TimeInterval?) -> OCSPStaple {
      OCSPStaple(
        der: [0x30], status: .good, thisUpdate: now + thisUpdate, nextUpdate: nextUpdate.map { now + $0 })
    }
    #expect(staple(-3600, 3 * 3600).refreshDate(now: now) == now + 3600)  // halfway
    #expect(staple(-7 * 86_400, 86_400).refreshDate(now: now) == now + 60)  // halfway is past: soon
    #expect(staple(0, 7 * 86_400).refreshDate(now: now) == now + 86_400)  // a week-long answer: daily
    #expect(staple(0, nil).refreshDate(now: now) == now + 3600)
  }
}
