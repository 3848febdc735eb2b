import RedisTestSupport
import EdgeLoop
import Testing

@testable import EdgeRedis

@Suite("Reconnecting over TLS")
struct RedisTLSReconnectTests {
  @Test("SIGKILL of a TLS server fails commands; a restart brings commands and the subscription back")
  func killAndRestart() async throws {
    let server = try RedisServer(tls: .init())
    let (client, states) = try await connectedClient(server.url)
    let (subscriber, messages, resubscribed) = try await subscribedSubscriber(server.url, ["events"])
    let subscriberStates = Recorder<RedisConnectionState>()
    try await onLoop { subscriber.onStateChange = { subscriberStates.append($0) } }
    #expect(try await client.command("SET", "before", "1") == .status("OK"))

    server.kill()
    try await waitUntil("the client to report the loss") { states.all.count == 2 }
    guard case .disconnected(let reason) = states.all[1] else {
      Issue.record("expected .disconnected, got \(states.all)")
      return
    }
    #expect(reason.hasPrefix("\(server.url): "), "\(reason)")
    await #expect(throws: RedisError.connectionLost) { try await client.command("GET", "before") }
    try await waitUntil("the subscriber to report the loss") { !subscriberStates.all.isEmpty }

    try server.start()
    try await waitUntil("the client to reconnect") { states.all.last == .connected }
    #expect(try await client.command("SET", "after", "2") == .status("OK"))
    try await waitUntil("the subscriber to resubscribe") { resubscribed.all == [["events"]] }
    #expect(try await client.command("PUBLISH", "events", "after restart") == .integer(1))
    try await waitUntil("the message published after the restart") { messages.all.count == 1 }
    #expect(messages.all[0].0 == "events" && messages.all[0].1 == Array("after restart".utf8))
    #expect(subscriberStates.all.last == .connected)
    try await onLoop {
      client.close()
      subscriber.close()
    }
  }
}
