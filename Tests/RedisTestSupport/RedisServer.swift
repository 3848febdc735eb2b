// Shared by the EdgeRedis and EdgeCluster tests: a real redis-server, a loop for clients, helpers.
import EdgeLoop
import EdgeRedis
import Foundation
import Glibc
import Synchronization

public struct TestFailure: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// A real redis-server on a free loopback port, started and stopped by PID.
public final class RedisServer: @unchecked Sendable {
  // Invariant: `process` is touched only by `start`/`kill`/`pause`/`resume`, which a test calls from one task.
  public static let executable = "/usr/bin/redis-server"
  public let port: Int
  public let extraArguments: [String]
  /// Set: the server speaks TLS only, on `port`.
  public let tls: TLS?
  private var process: Process?

  /// How a TLS server presents itself (certificates from `TestPKI`, trusting its `ca` for clients).
  public struct TLS: Sendable {
    /// The TestPKI certificate the server presents.
    public var certificate = "server"
    /// `--tls-auth-clients yes`: a client without a certificate from `ca` is refused.
    public var requireClientCertificate = false

    public init(certificate: String = "server", requireClientCertificate: Bool = false) {
      self.certificate = certificate
      self.requireClientCertificate = requireClientCertificate
    }
  }

  public init(_ extraArguments: [String] = [], tls: TLS? = nil) throws {
    ProcessSetup.prepare()  // a write to a killed server must be EPIPE, not SIGPIPE
    port = try freePort()
    self.extraArguments = extraArguments
    self.tls = tls
    try start()
  }

  private var listening: [String] {
    guard let tls else { return ["--port", String(port)] }
    let pki = TestPKI.shared
    return [
      "--port", "0", "--tls-port", String(port), "--tls-cert-file", pki.certificate(tls.certificate),
      "--tls-key-file", pki.key(tls.certificate), "--tls-ca-cert-file", pki.certificate("ca"),
      "--tls-auth-clients", tls.requireClientCertificate ? "yes" : "no",
    ]
  }

  /// Starts the server (again) on `port`, and returns once it accepts connections.
  public func start() throws {
    guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
      throw TestFailure("\(Self.executable) is missing (apt-get install redis-server)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.executable)
    process.arguments =
      listening + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"] + extraArguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    self.process = process
    let deadline = ContinuousClock.now + .seconds(10)
    while !canConnect(port) {
      guard process.isRunning, ContinuousClock.now < deadline else {
        throw TestFailure("redis-server on port \(port) did not start")
      }
      usleep(20_000)
    }
  }

  /// The server's URL; for TLS, `rediss://` trusting the test CA.
  public var url: RedisURL {
    guard tls != nil else { return RedisURL(host: "127.0.0.1", port: port) }
    return RedisURL(host: "127.0.0.1", port: port, tls: true, tlsOptions: .init(caFile: TestPKI.shared.certificate("ca")))
  }

  /// SIGKILL: the server vanishes without closing anything politely.
  public func kill() {
    guard let process, process.isRunning else { return }
    Glibc.kill(process.processIdentifier, SIGKILL)
    while process.isRunning { usleep(10_000) }
  }

  /// SIGSTOP: connections stay open, nothing is answered (a hung server, or a network that drops packets).
  public func pause() {
    guard let process, process.isRunning else { return }
    Glibc.kill(process.processIdentifier, SIGSTOP)
  }

  /// SIGCONT: the paused server answers what it was sent meanwhile.
  public func resume() {
    guard let process, process.isRunning else { return }
    Glibc.kill(process.processIdentifier, SIGCONT)
  }

  /// The server keeps nothing on disk (`--save ""`, no AOF), so SIGKILL loses nothing (it also ends a paused
  /// server); SIGTERM would not
  /// do: children of a dispatch worker inherit its blocked SIGTERM.
  deinit { kill() }
}

/// A port nobody listens on right now: bind port 0 on 127.0.0.1, read what the kernel chose, close.
public func freePort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = 0
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
      bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
    }
  }
  guard bound else { throw TestFailure("no free port: errno \(errno)") }
  return Int(UInt16(bigEndian: address.sin_port))
}

public func canConnect(_ port: Int) -> Bool {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = UInt16(port).bigEndian
  let connected = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
    }
  }
  // A socket that connected to itself (its source port picked equal to `port`) is not a server.
  var local = sockaddr_in()
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let named = withUnsafeMutablePointer(to: &local) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
  }
  return connected && named && Int(UInt16(bigEndian: local.sin_port)) != port
}

/// One loop on its own thread for every test in the module (tests run in parallel, clients share it).
public let testLoop: EventLoop = {
  let loop = EventLoop(index: -1)
  loop.runOnNewThread(name: "redis-tests")
  return loop
}()

/// Runs `body` on the test loop and returns its result.
public func onLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  let result: Result<T, any Error> = await withCheckedContinuation { continuation in
    testLoop.execute { continuation.resume(returning: Result { try body() }) }
  }
  return try result.get()
}

/// What callbacks saw, readable from the test task.
public final class Recorder<Event: Sendable>: Sendable {
  private let events = Mutex<[Event]>([])
  public init() {}
  public func append(_ event: Event) { events.withLock { $0.append(event) } }
  public var all: [Event] { events.withLock { $0 } }
}

/// Polls `condition` until it holds, or throws after `timeout`.
public func waitUntil(_ what: String, timeout: Duration = .seconds(15), _ condition: () -> Bool) async throws {
  let deadline = ContinuousClock.now + timeout
  while !condition() {
    guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
    try await Task.sleep(for: .milliseconds(20))
  }
}

/// A client on the test loop that has connected, its state changes recorded.
public func connectedClient(_ url: RedisURL) async throws -> (RedisClient, Recorder<RedisConnectionState>) {
  let client = RedisClient(url: url, loop: testLoop)
  let states = Recorder<RedisConnectionState>()
  try await onLoop {
    client.onStateChange = { states.append($0) }
    try client.connect()
  }
  try await waitUntil("the client to connect") { states.all.last == .connected }
  return (client, states)
}

/// A subscriber on the test loop that has connected and subscribed to `channels`.
public func subscribedSubscriber(_ url: RedisURL, _ channels: [String]) async throws -> (
  RedisSubscriber, Recorder<(String, [UInt8])>, Recorder<[String]>
) {
  let subscriber = RedisSubscriber(url: url, loop: testLoop)
  let messages = Recorder<(String, [UInt8])>()
  let resubscribed = Recorder<[String]>()
  let confirmed = Recorder<Bool>()
  try await onLoop {
    subscriber.onMessage = { messages.append(($0, $1)) }
    subscriber.onResubscribed = { resubscribed.append($0) }
    try subscriber.connect()
    subscriber.subscribe(channels) { confirmed.append(true) }
  }
  try await waitUntil("the subscription") { !confirmed.all.isEmpty }
  return (subscriber, messages, resubscribed)
}
