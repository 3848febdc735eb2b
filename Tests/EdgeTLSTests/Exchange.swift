import EdgeCore
@testable import EdgeTLS

/// A client and a server session wired back to back in memory, as a connection on a loop would drive them.
final class Exchange {
  let client: TestClient
  let server: TLSSession
  /// Plaintext the server decrypted.
  let serverInbound = ByteBuffer()
  var events: [TLSEvent] = []

  init(context: TLSContext, _ options: TestClient.Options = TestClient.Options()) throws {
    client = TestClient(options)
    server = try TLSSession(context: context)
  }

  /// Moves bytes both ways until neither side has anything more to say. Returns the server's events.
  @discardableResult
  func pump() -> [TLSEvent] {
    var seen: [TLSEvent] = []
    for _ in 0..<1000 {
      client.step()
      let toServer = client.takeOutput()
      toServer.withUnsafeBytes { server.feed($0) }
      seen += advanceServer()
      var moved = toServer.count
      server.takeOutput { bytes in
        moved += bytes.count
        client.feed(bytes)
      }
      if moved == 0 { break }
    }
    client.step()
    events += seen
    return seen
  }

  private func advanceServer() -> [TLSEvent] {
    var seen: [TLSEvent] = []
    while true {
      let event = server.advance(into: serverInbound)
      switch event {
      case .needMoreInput: return seen
      case .handshakeComplete, .plaintext: seen.append(event)
      case .waitingForCertificate, .closed, .failed:
        seen.append(event)
        return seen
      }
    }
  }

  var handshake: TLSHandshake? {
    for case .handshakeComplete(let info) in events { return info }
    return nil
  }

  var failure: TLSFailure? {
    for case .failed(let failure) in events { return failure }
    return nil
  }

  var waitingFor: String? {
    for case .waitingForCertificate(let name) in events { return name }
    return nil
  }

  var serverReceived: [UInt8] { Array(serverInbound.readable) }
}

/// A context whose cache serves the named test certificates, and `defaultName` as its default.
func makeContext(
  _ names: [String], default defaultName: String? = nil, configure: (inout TLSConfiguration) -> Void = { _ in }
) throws -> TLSContext {
  let certificates = TestCertificates.shared
  let cache = CertificateCache(defaultCertificate: try defaultName.map { try certificates.key($0) })
  for name in names { cache.insert(try certificates.key(name)) }
  var configuration = TLSConfiguration()
  configure(&configuration)
  return try TLSContext(configuration: configuration, certificates: cache)
}
