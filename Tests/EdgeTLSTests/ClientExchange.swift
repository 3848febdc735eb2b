import EdgeCore
@testable import EdgeTLS

/// edge's client session against edge's server session, back to back in memory: the client side tested
/// without sockets, and the server tells what it was sent (SNI, plaintext).
final class ClientExchange {
  let client: TLSClientSession
  let server: TLSSession
  let clientInbound = ByteBuffer()
  let serverInbound = ByteBuffer()
  private(set) var clientEvents: [TLSEvent] = []
  private(set) var serverEvents: [TLSEvent] = []

  init(_ configuration: TLSClientConfiguration, serverName: String, server context: TLSContext) throws {
    client = try TLSClientSession(context: try TLSClientContext(configuration: configuration), serverName: serverName)
    server = try TLSSession(context: context)
  }

  /// With a client context shared between exchanges (sessions resumed under `resumptionKey`).
  init(_ context: TLSClientContext, serverName: String, resumptionKey: String?, server: TLSContext) throws {
    client = try TLSClientSession(context: context, serverName: serverName, resumptionKey: resumptionKey)
    self.server = try TLSSession(context: server)
  }

  /// Moves records both ways until neither side has anything more to say.
  func pump() {
    for _ in 0..<100 {
      var moved = 0
      client.takeOutput { bytes in
        moved += bytes.count
        server.feed(bytes)
      }
      serverEvents += Self.advance { server.advance(into: serverInbound) }
      if case .waitingForCertificate? = serverEvents.last {
        // A name the cache does not hold: the default certificate, as a listener's source would answer.
        server.provideCertificate(nil)
        serverEvents += Self.advance { server.advance(into: serverInbound) }
      }
      server.takeOutput { bytes in
        moved += bytes.count
        client.feed(bytes)
      }
      clientEvents += Self.advance { client.advance(into: clientInbound) }
      if moved == 0 { return }
    }
  }

  func send(_ text: String) throws {
    var failure: TLSFailure?
    Array(text.utf8).withUnsafeBytes { bytes in
      do throws(TLSFailure) { try client.write(plaintext: bytes) } catch { failure = error }
    }
    if let failure { throw failure }
    pump()
  }

  private static func advance(_ step: () -> TLSEvent) -> [TLSEvent] {
    var seen: [TLSEvent] = []
    while true {
      let event = step()
      switch event {
      case .needMoreInput: return seen
      case .handshakeComplete, .plaintext: seen.append(event)
      case .waitingForCertificate, .closed, .failed:
        seen.append(event)
        return seen
      }
    }
  }

  var clientHandshake: TLSHandshake? {
    for case .handshakeComplete(let info) in clientEvents { return info }
    return nil
  }

  var clientFailure: TLSFailure? {
    for case .failed(let failure) in clientEvents { return failure }
    return nil
  }

  var serverCompleted: Bool {
    serverEvents.contains { if case .handshakeComplete = $0 { true } else { false } }
  }

  var serverReceived: String { String(decoding: serverInbound.readable, as: UTF8.self) }
}
