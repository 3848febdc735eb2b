import Testing
import COpenSSL
@testable import EdgeTLS

@Suite("session tickets") struct ResumptionTests {
  /// A full handshake, then one offering its ticket. Returns the second handshake.
  func resume(
    first: TLSContext, second: TLSContext, maxVersion: Int32, between: () -> Void = {}
  ) throws -> TLSHandshake {
    let initial = try Exchange(context: first, .init(maxVersion: maxVersion))
    initial.pump()
    #expect(initial.handshake?.resumed == false)
    let session = try #require(initial.client.session())
    defer { SSL_SESSION_free(session) }
    #expect(SSL_SESSION_is_resumable(session) == 1)
    between()
    let again = try Exchange(context: second, .init(maxVersion: maxVersion, session: session))
    again.pump()
    return try #require(again.handshake)
  }

  @Test("a ticket resumes the session", arguments: [TLS1_3_VERSION, TLS1_2_VERSION])
  func resumes(maxVersion: Int32) throws {
    let context = try makeContext(["a.test"])
    #expect(try resume(first: context, second: context, maxVersion: maxVersion).resumed)
  }

  @Test("a ticket sealed by a rotated-out key still opens while the ring keeps it") func rotation() throws {
    let context = try makeContext(["a.test"])
    let ring = try #require(context.configuration.ticketKeys)
    #expect(try resume(first: context, second: context, maxVersion: TLS1_3_VERSION) { ring.rotate() }.resumed)
    #expect(ring.keys.count == 2)
    // Rotated past the ring's capacity: the old key is gone, so a full handshake follows.
    let expired = try resume(first: context, second: context, maxVersion: TLS1_3_VERSION) {
      for _ in 0..<ring.capacity { ring.rotate() }
    }
    #expect(!expired.resumed)
  }

  @Test("contexts sharing installed keys resume each other's tickets; others do not") func sharedKeys() throws {
    let shared = TicketKeyRing()
    let first = try makeContext(["a.test"]) { $0.ticketKeys = shared }
    let peerRing = TicketKeyRing()
    peerRing.install(shared.keys.map { TicketKey(bytes: $0.bytes)! })  // as if read from cluster storage
    let peer = try makeContext(["a.test"]) { $0.ticketKeys = peerRing }
    #expect(try resume(first: first, second: peer, maxVersion: TLS1_3_VERSION).resumed)
    let stranger = try makeContext(["a.test"])
    #expect(try !resume(first: first, second: stranger, maxVersion: TLS1_3_VERSION).resumed)
  }

  @Test("tickets can be turned off") func disabled() throws {
    let context = try makeContext(["a.test"]) { $0.ticketKeys = nil }
    let initial = try Exchange(context: context, .init(maxVersion: TLS1_2_VERSION))
    initial.pump()
    let session = try #require(initial.client.session())
    defer { SSL_SESSION_free(session) }
    let again = try Exchange(context: context, .init(maxVersion: TLS1_2_VERSION, session: session))
    again.pump()
    #expect(again.handshake?.resumed == false)
  }

  @Test("ticket keys serialize to 80 bytes and back") func serialization() {
    let key = TicketKey.random()
    #expect(key.bytes.count == TicketKey.byteCount)
    #expect(TicketKey(bytes: key.bytes) == key)
    #expect(TicketKey(bytes: [1, 2, 3]) == nil)
    #expect(TicketKey.random() != key)
  }
}
