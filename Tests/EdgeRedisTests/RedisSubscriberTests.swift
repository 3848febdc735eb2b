import RedisTestSupport
import EdgeLoop
import Testing

@testable import EdgeRedis

@Suite("RedisSubscriber against redis-server")
struct RedisSubscriberTests {
  @Test("PUBLISH reaches the subscriber with its channel and exact payload bytes")
  func delivers() async throws {
    let server = try RedisServer()
    let (subscriber, messages, _) = try await subscribedSubscriber(server.url, ["cluster:events", "other"])
    let (client, _) = try await connectedClient(server.url)
    let payload: [UInt8] = [0, 1, 2, 13, 10, 255] + Array("issued a.example".utf8)
    #expect(try await client.command([Array("PUBLISH".utf8), Array("cluster:events".utf8), payload]) == .integer(1))
    #expect(try await client.command("PUBLISH", "other", "x") == .integer(1))
    #expect(try await client.command("PUBLISH", "nobody", "y") == .integer(0))
    try await waitUntil("two messages") { messages.all.count == 2 }
    #expect(messages.all[0].0 == "cluster:events" && messages.all[0].1 == payload)
    #expect(messages.all[1].0 == "other" && messages.all[1].1 == Array("x".utf8))

    try await onLoop { subscriber.unsubscribe(["other"]) }
    var remaining: RedisReply = .null
    for _ in 0..<100 {
      remaining = try await client.command("PUBSUB", "NUMSUB", "other")
      if remaining == .array([.bulk(Array("other".utf8)), .integer(0)]) { break }
      try await Task.sleep(for: .milliseconds(20))
    }
    #expect(remaining == .array([.bulk(Array("other".utf8)), .integer(0)]))
    try await onLoop {
      subscriber.close()
      client.close()
    }
  }
}
