import RedisTestSupport
import Glibc
import EdgeLoop
import Testing

@testable import EdgeRedis

@Suite("Reconnecting after redis-server dies")
struct ReconnectTests {
  @Test("SIGKILL fails pending and new commands; a restart on the same port brings commands and subscriptions back")
  func killAndRestart() async throws {
    let server = try RedisServer()
    let (client, states) = try await connectedClient(server.url)
    let (subscriber, messages, resubscribed) = try await subscribedSubscriber(server.url, ["events"])
    let subscriberStates = Recorder<RedisConnectionState>()
    try await onLoop { subscriber.onStateChange = { subscriberStates.append($0) } }

    // A command the server holds open, so it is surely pending when the server dies.
    let pending = Recorder<Result<RedisReply, RedisError>>()
    try await onLoop { client.send(["BLPOP", "never", "0"]) { pending.append($0) } }
    // Replies come in order, so the client itself cannot ask; another connection watches for the block.
    let (observer, _) = try await connectedClient(server.url)
    var blocked = false
    for _ in 0..<250 where !blocked {
      blocked = try await observer.command("INFO", "clients").string?.contains("blocked_clients:1") == true
      if !blocked { try await Task.sleep(for: .milliseconds(20)) }
    }
    #expect(blocked)
    server.kill()

    try await waitUntil("the pending command to fail") { !pending.all.isEmpty }
    #expect(throws: RedisError.connectionLost) { try pending.all[0].get() }
    try await waitUntil("the client to report the loss") { states.all.count == 2 }
    guard case .disconnected = states.all[1] else {
      Issue.record("expected .disconnected, got \(states.all)")
      return
    }
    #expect(await isConnectionLost { try await client.command("GET", "k") })
    try await waitUntil("the subscriber to report the loss") { !subscriberStates.all.isEmpty }

    try server.start()
    try await waitUntil("the client to reconnect") { states.all.last == .connected }
    #expect(try await client.command("SET", "k", "v") == .status("OK"))
    #expect(try await client.command("GET", "k") == .bulk(Array("v".utf8)))

    try await waitUntil("the subscriber to resubscribe") { resubscribed.all == [["events"]] }
    #expect(try await client.command("PUBLISH", "events", "after restart") == .integer(1))
    try await waitUntil("the message published after the restart") { messages.all.count == 1 }
    #expect(messages.all[0].0 == "events" && messages.all[0].1 == Array("after restart".utf8))
    #expect(subscriberStates.all.last == .connected)

    try await onLoop {
      client.close()
      subscriber.close()
      observer.close()
    }
  }

  @Test("a server that is not there yet is retried until it appears")
  func connectsLate() async throws {
    let server = try RedisServer()
    server.kill()
    let client = RedisClient(url: server.url, loop: testLoop)
    let states = Recorder<RedisConnectionState>()
    try await onLoop {
      client.onStateChange = { states.append($0) }
      try client.connect()
    }
    try await waitUntil("the first failure") { !states.all.isEmpty }
    #expect(await isConnectionLost { try await client.command("PING") })
    try await Task.sleep(for: .milliseconds(400))  // several attempts, reported once
    #expect(states.all.count == 1)
    try server.start()
    try await waitUntil("the client to connect") { states.all.last == .connected }
    #expect(try await client.command("PING") == .status("PONG"))
    try await onLoop { client.close() }
  }
}

private func isConnectionLost(_ body: () async throws -> RedisReply) async -> Bool {
  do {
    _ = try await body()
    return false
  } catch let error as RedisError {
    return error.code == .connectionLost
  } catch {
    return false
  }
}

@Suite("Connect timeout")
struct ConnectTimeoutTests {
  @Test("a server that accepts but never answers is abandoned after the connect timeout, and retried")
  func silentServer() async throws {
    let listener = try SilentListener()
    let client = RedisClient(
      url: RedisURL(host: "127.0.0.1", port: listener.port), loop: testLoop, connectTimeout: .milliseconds(200))
    let states = Recorder<RedisConnectionState>()
    let early = Recorder<Result<RedisReply, RedisError>>()
    try await onLoop {
      client.onStateChange = { states.append($0) }
      try client.connect()
      client.send(["PING"]) { early.append($0) }  // queued behind the handshake that never ends
    }
    try await waitUntil("the timeout") { !states.all.isEmpty && !early.all.isEmpty }
    guard case .disconnected(let reason) = states.all[0] else {
      Issue.record("expected .disconnected, got \(states.all)")
      return
    }
    #expect(reason.contains("no answer within"))
    #expect(throws: RedisError.connectionLost) { try early.all[0].get() }
    let refused = Recorder<Result<RedisReply, RedisError>>()
    try await onLoop { client.send(["SUBSCRIBE", "x"]) { refused.append($0) } }
    #expect(throws: RedisError.self) { try refused.all[0].get() }
    try await onLoop { client.close() }
  }
}

@Suite("Connection reset")
struct ConnectionResetTests {
  @Test("a reset (RST) while a command waits fails it at once, not at a timeout")
  func reset() async throws {
    let listener = try SilentListener()
    let client = RedisClient(
      url: RedisURL(host: "127.0.0.1", port: listener.port), loop: testLoop, connectTimeout: .seconds(30))
    let states = Recorder<RedisConnectionState>()
    let pending = Recorder<Result<RedisReply, RedisError>>()
    try await onLoop {
      client.onStateChange = { states.append($0) }
      try client.connect()
      client.send(["PING"]) { pending.append($0) }
    }
    try listener.acceptAndReset()
    try await waitUntil("the reset to fail the command", timeout: .seconds(5)) { !pending.all.isEmpty }
    #expect(throws: RedisError.connectionLost) { try pending.all[0].get() }
    try await waitUntil("the reset to be reported", timeout: .seconds(5)) { !states.all.isEmpty }
    try await onLoop { client.close() }
  }
}

/// A listening socket that never accepts: connects succeed (the kernel's backlog), nothing is answered.
final class SilentListener: Sendable {
  let fd: Int32
  let port: Int

  init() throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let fd = fd
    let ok = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
        bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
      }
    }
    guard ok else { throw TestFailure("silent listener: errno \(errno)") }
    port = Int(UInt16(bigEndian: address.sin_port))
  }

  /// Accepts the connection waiting in the backlog and resets it (SO_LINGER 0: RST, not FIN).
  func acceptAndReset() throws {
    let connection = accept(fd, nil, nil)
    guard connection >= 0 else { throw TestFailure("accept: errno \(errno)") }
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    close(connection)
  }

  deinit { close(fd) }
}
