import RedisTestSupport
import EdgeLoop
import Testing

@testable import EdgeRedis

@Suite("RedisClient against redis-server")
struct RedisClientTests {
  @Test("SET, GET and DEL round-trip every byte value")
  func binaryRoundTrip() async throws {
    let server = try RedisServer()
    let (client, _) = try await connectedClient(server.url)
    let key: [UInt8] = Array("bin:\0\r\n".utf8)
    let value = (0...255).map { UInt8($0) } + Array("\r\n$3\r\n".utf8) + [0, 0]
    #expect(try await client.command([Array("SET".utf8), key, value]) == .status("OK"))
    #expect(try await client.command([Array("GET".utf8), key]) == .bulk(value))
    #expect(try await client.command([Array("SET".utf8), Array("empty".utf8), []]) == .status("OK"))
    #expect(try await client.command("GET", "empty") == .bulk([]))
    #expect(try await client.command([Array("DEL".utf8), key]) == .integer(1))
    #expect(try await client.command([Array("GET".utf8), key]) == .null)
    #expect(try await client.command("MGET", "empty", "missing") == .array([.bulk([]), .null]))
    await #expect(throws: RedisError.self) { try await client.command("LPUSH", "empty", "x") }
    try await onLoop { client.close() }
  }

  @Test("1,000 pipelined INCRs answer 1…1000 in order")
  func pipelining() async throws {
    let server = try RedisServer()
    let (client, _) = try await connectedClient(server.url)
    let replies = Recorder<Int64>()
    try await onLoop {
      for _ in 0..<1000 {  // all queued before the first reply can arrive
        client.send(["INCR", "counter"]) { result in
          if case .success(.integer(let value)) = result { replies.append(value) } else { replies.append(-1) }
        }
      }
    }
    try await waitUntil("1,000 replies") { replies.all.count == 1000 }
    #expect(replies.all == Array(1...1000))
    try await onLoop { client.close() }
  }

  @Test("SET NX PX takes a lock once; a Lua compare-and-delete frees it only for its owner")
  func lockWithCompareAndDelete() async throws {
    let server = try RedisServer()
    let (client, _) = try await connectedClient(server.url)
    let release = """
      if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
      """
    #expect(try await client.command("SET", "lock:a", "node-1", "NX", "PX", "30000") == .status("OK"))
    #expect(try await client.command("SET", "lock:a", "node-2", "NX", "PX", "30000") == .null)
    let ttl = try #require(try await client.command("PTTL", "lock:a").integer)
    #expect(ttl > 0 && ttl <= 30000)
    #expect(try await client.command("EVAL", release, "1", "lock:a", "node-2") == .integer(0))
    #expect(try await client.command("GET", "lock:a") == .bulk(Array("node-1".utf8)))
    #expect(try await client.command("EVAL", release, "1", "lock:a", "node-1") == .integer(1))
    #expect(try await client.command("GET", "lock:a") == .null)
    try await onLoop { client.close() }
  }

  @Test("AUTH with a password and SELECT of the URL's database")
  func authenticationAndDatabase() async throws {
    let server = try RedisServer(["--requirepass", "s3cret"])
    var url = server.url
    url.password = "s3cret"
    url.database = 2
    let (client, _) = try await connectedClient(url)
    #expect(try await client.command("SET", "where", "db2") == .status("OK"))
    url.database = 0
    let (other, _) = try await connectedClient(url)
    #expect(try await other.command("GET", "where") == .null)
    #expect(try await other.command("SELECT", "2") == .status("OK"))
    #expect(try await other.command("GET", "where") == .bulk(Array("db2".utf8)))

    url.password = "wrong"
    let refused = RedisClient(url: url, loop: testLoop)
    let states = Recorder<RedisConnectionState>()
    try await onLoop {
      refused.onStateChange = { states.append($0) }
      try refused.connect()
    }
    try await waitUntil("the refused AUTH to be reported") { !states.all.isEmpty }
    guard case .disconnected(let reason) = states.all.first else {
      Issue.record("expected a disconnect, got \(states.all)")
      return
    }
    #expect(reason.contains("AUTH failed"))
    #expect(!reason.contains("wrong"))
    try await onLoop {
      client.close()
      other.close()
      refused.close()
    }
  }

  @Test("a host name is resolved before connecting; one that does not resolve is reported")
  func resolvesHostName() async throws {
    let server = try RedisServer()
    let (client, _) = try await connectedClient(RedisURL(host: "localhost", port: server.port))
    #expect(try await client.command("PING") == .status("PONG"))
    let reason = try await firstDisconnect(RedisURL(host: "no-such-host.invalid", port: server.port))
    #expect(reason.hasPrefix("connecting to redis://no-such-host.invalid:\(server.port): resolve no-such-host.invalid:"))
    try await onLoop { client.close() }
  }
}
