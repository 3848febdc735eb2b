import Testing
@testable import EdgeTLS

@Suite("application data") struct ApplicationDataTests {
  @Test("a request and a response cross in both directions", arguments: [false, true])
  func roundTrip(tls12: Bool) throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(context: context, .init(maxVersion: tls12 ? 0x0303 : 0x0304))
    exchange.pump()
    #expect(exchange.server.isEstablished)

    let request = Array("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n".utf8)
    exchange.client.write(request)
    let events = exchange.pump()
    #expect(events == [.plaintext(request.count)])
    #expect(exchange.serverReceived == request)

    let response = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)
    try exchange.server.write(plaintext: response)
    exchange.pump()
    #expect(exchange.client.received == response)
  }

  @Test("a 1 MB payload each way arrives intact") func megabyte() throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(context: context)
    exchange.pump()
    let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }

    try exchange.server.write(plaintext: payload)
    exchange.pump()
    #expect(exchange.client.received.count == payload.count)
    #expect(exchange.client.received == payload)

    exchange.client.write(payload)
    let events = exchange.pump()
    #expect(exchange.serverReceived.count == payload.count)
    #expect(exchange.serverReceived == payload)
    // Decrypted in bounded steps, so a connection can apply back-pressure between them.
    #expect(events.count >= payload.count / TLSSession.readLimit)
  }

  @Test("close_notify from the client reports closed") func closeNotify() throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(context: context)
    exchange.pump()
    _ = SSLShutdown.send(exchange.client)
    let events = exchange.pump()
    #expect(events.first == .closed)
    #expect(exchange.server.pendingInput == 0)
    // It stays closed, but a response can still go out, followed by our close_notify.
    #expect(exchange.server.advance(into: exchange.serverInbound) == .closed)
    try exchange.server.write(plaintext: Array("bye".utf8))
    exchange.server.shutdown()
    exchange.pump()
    #expect(exchange.client.received == Array("bye".utf8))
  }

  @Test("shutdown sends close_notify and stops writes") func serverShutdown() throws {
    let context = try makeContext(["a.test"])
    let exchange = try Exchange(context: context)
    exchange.pump()
    exchange.server.shutdown()
    #expect(exchange.server.hasOutput)
    #expect(throws: TLSFailure.self) { try exchange.server.write(plaintext: [1]) }
  }
}
