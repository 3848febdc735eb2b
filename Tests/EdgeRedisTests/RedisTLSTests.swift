import RedisTestSupport
import EdgeLoop
import Testing

@testable import EdgeRedis

/// rediss:// against a redis-server that listens on TLS only (`--port 0 --tls-port …`): any reply at all
/// went through TLS.
@Suite("Redis over TLS (rediss://)")
struct RedisTLSTests {
  let pki = TestPKI.shared

  @Test("commands round-trip every byte value, and 1,000 pipelined INCRs answer in order")
  func commandsAndPipelining() async throws {
    let server = try RedisServer(tls: .init())
    let (client, _) = try await connectedClient(server.url)
    let value = (0...255).map { UInt8($0) } + Array("\r\n".utf8)
    #expect(try await client.command([Array("SET".utf8), Array("bin".utf8), value]) == .status("OK"))
    #expect(try await client.command([Array("GET".utf8), Array("bin".utf8)]) == .bulk(value))
    let replies = Recorder<Int64>()
    try await onLoop {
      for _ in 0..<1000 {
        client.send(["INCR", "counter"]) { result in
          if case .success(.integer(let value)) = result { replies.append(value) } else { replies.append(-1) }
        }
      }
    }
    try await waitUntil("1,000 replies") { replies.all.count == 1000 }
    #expect(replies.all == Array(1...1000))
    try await onLoop { client.close() }
  }

  @Test("PUBLISH over rediss:// reaches a subscriber over rediss://")
  func publishSubscribe() async throws {
    let server = try RedisServer(tls: .init())
    let (subscriber, messages, _) = try await subscribedSubscriber(server.url, ["cluster:events"])
    let (client, _) = try await connectedClient(server.url)
    let payload: [UInt8] = [0, 13, 10, 255] + Array("issued a.example".utf8)
    #expect(try await client.command([Array("PUBLISH".utf8), Array("cluster:events".utf8), payload]) == .integer(1))
    try await waitUntil("the message") { messages.all.count == 1 }
    #expect(messages.all[0].0 == "cluster:events" && messages.all[0].1 == payload)
    try await onLoop {
      subscriber.close()
      client.close()
    }
  }

  @Test("AUTH and SELECT over rediss://; a wrong password is reported as AUTH failed")
  func authentication() async throws {
    let server = try RedisServer(["--requirepass", "s3cret"], tls: .init())
    var url = server.url
    url.password = "s3cret"
    url.database = 3
    let (client, _) = try await connectedClient(url)
    #expect(try await client.command("SET", "where", "db3") == .status("OK"))
    #expect(try await client.command("CLIENT", "INFO").string?.contains("db=3") == true)

    url.password = "wrong"
    let reason = try await firstDisconnect(url)
    #expect(reason.contains("AUTH failed"))
    #expect(!reason.contains("wrong"))
    try await onLoop { client.close() }
  }

  @Test("sni= names the certificate to expect for a server reached by IP address")
  func serverNameOverride() async throws {
    let server = try RedisServer(tls: .init(certificate: "other"))  // DNS:other.test only
    var url = server.url
    url.tlsOptions.serverName = "other.test"
    let (client, _) = try await connectedClient(url)
    #expect(try await client.command("PING") == .status("PONG"))
    try await onLoop { client.close() }
  }

  @Test("insecure=1 connects to a server whose certificate no trusted CA issued")
  func insecure() async throws {
    let server = try RedisServer(tls: .init(certificate: "rogue"))
    let url = try RedisURL(parsing: "rediss://127.0.0.1:\(server.port)?insecure=1")
    let (client, _) = try await connectedClient(url)
    #expect(try await client.command("PING") == .status("PONG"))
    try await onLoop { client.close() }
  }

  @Test("a CA, certificate or key file that does not load fails connect() at once with code .tls")
  func filesThatDoNotLoad() async throws {
    for query in ["ca=/nonexistent/ca.pem", "cert=\(pki.certificate("client"))&key=\(pki.key("server"))"] {
      let client = RedisClient(url: try RedisURL(parsing: "rediss://127.0.0.1:6380?\(query)"), loop: testLoop)
      let error = try await onLoop { () -> RedisError? in
        do throws(RedisError) {
          try client.connect()
          return nil
        } catch { return error }
      }
      #expect(error?.code == .tls, "\(query): \(String(describing: error))")
      #expect(error?.message.hasPrefix("connecting to rediss://127.0.0.1:6380?") == true)
      #expect(client.isConnected == false)
    }
  }
}

/// Connects a client to `url`, expecting the first report to be a disconnect; returns its reason.
func firstDisconnect(_ url: RedisURL) async throws -> String {
  let client = RedisClient(url: url, loop: testLoop)
  let states = Recorder<RedisConnectionState>()
  try await onLoop {
    client.onStateChange = { states.append($0) }
    try client.connect()
  }
  try await waitUntil("the refusal to be reported") { !states.all.isEmpty }
  try await onLoop { client.close() }
  guard case .disconnected(let reason) = states.all[0] else { throw TestFailure("expected a disconnect, got \(states.all)") }
  return reason
}
