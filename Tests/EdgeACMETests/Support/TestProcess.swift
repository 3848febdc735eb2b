import Foundation
import Glibc

/// A child process started by a test and stopped by its PID (SIGTERM, then waited for).
final class TestProcess: @unchecked Sendable {
  // Invariant: `process` is only touched by `start` and `stop`, which a test calls from one task.
  private let process = Process()
  let name: String
  let logFile: URL

  init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], logFile: URL) throws {
    name = URL(fileURLWithPath: executable).lastPathComponent
    self.logFile = logFile
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw TestFailure("\(executable) is missing (apt-get install pebble / openssl / python3)")
    }
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
    let log = try FileHandle(forWritingTo: logFile)
    process.standardOutput = log
    process.standardError = log
    process.standardInput = FileHandle.nullDevice
    try process.run()
  }

  var pid: Int32 { process.processIdentifier }
  var isRunning: Bool { process.isRunning }

  /// SIGTERM, and SIGKILL after two seconds: children inherit the spawning thread's signal mask, and a
  /// dispatch worker blocks SIGTERM, so a child that does not reset its mask (Python) ignores it.
  func stop() {
    guard process.isRunning else { return }
    let pid = process.processIdentifier
    kill(pid, SIGTERM)
    let deadline = ContinuousClock.now + .seconds(2)
    while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
    if process.isRunning { kill(pid, SIGKILL) }
    while process.isRunning { usleep(10_000) }  // Foundation reaps it; waitUntilExit would spin a run loop
  }

  var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
}

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Runs a command to completion and returns its exit status and combined output. The waiting happens
/// on a dispatch thread: blocking the two-thread cooperative pool would stall every other test.
@discardableResult
func run(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async {
      continuation.resume(with: Result { try runBlocking(executable, arguments, input: input) })
    }
  }
}

private func runBlocking(_ executable: String, _ arguments: [String], input: String?) throws -> (status: Int32, output: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let output = Pipe()
  process.standardOutput = output
  process.standardError = output
  let stdin = Pipe()
  process.standardInput = stdin
  try process.run()
  if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
  try stdin.fileHandleForWriting.close()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Loopback ports, chosen free at run time.
enum FreePort {
  /// A port free for TCP (and UDP when `udp`) on 127.0.0.1, as the kernel picked it for an ephemeral bind,
  /// and never handed out before in this process (parallel tests would otherwise be given the same one).
  static func pick(udp: Bool = false) throws -> Int {
    for _ in 0..<50 {
      let port = try bindEphemeral(Int32(SOCK_STREAM.rawValue))
      if udp && !canBind(port, Int32(SOCK_DGRAM.rawValue)) { continue }
      if handedOut.claim(port) { return port }
    }
    throw TestFailure("no free port")
  }

  private static let handedOut = PortRegistry()

  private final class PortRegistry: @unchecked Sendable {
    // Invariant: `ports` only under `lock`.
    private let lock = NSLock()
    private var ports: Set<Int> = []
    func claim(_ port: Int) -> Bool { lock.withLock { ports.insert(port).inserted } }
  }

  private static func bindEphemeral(_ type: Int32) throws -> Int {
    let descriptor = socket(AF_INET, type, 0)
    defer { close(descriptor) }
    var address = loopback(port: 0)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestFailure("bind: \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  private static func canBind(_ port: Int, _ type: Int32) -> Bool {
    let descriptor = socket(AF_INET, type, 0)
    defer { close(descriptor) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
  }

  static func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
  }

  /// Waits until something accepts TCP connections on 127.0.0.1:`port`.
  /// Gives up early once `alive` says the process meant to listen has exited.
  static func waitUntilListening(
    _ port: Int, within timeout: Duration = .seconds(10), _ what: String, alive: () -> Bool = { true }
  ) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      guard alive() else { throw TestFailure("\(what) exited before listening on 127.0.0.1:\(port)") }
      let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var address = loopback(port: port)
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
      // A connect to a port nobody listens on can pick that very port as its source and connect to
      // itself (TCP simultaneous open): that is not the server.
      var local = sockaddr_in()
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let named = withUnsafeMutablePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
      }
      close(descriptor)
      if connected == 0, named == 0, Int(UInt16(bigEndian: local.sin_port)) != port, alive() { return }
      try await Task.sleep(for: .milliseconds(25))
    }
    throw TestFailure("\(what) is not listening on 127.0.0.1:\(port)")
  }
}

/// A temporary directory removed by `remove()`.
struct ScratchDirectory {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("edge-acme-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> URL { url.appendingPathComponent(name) }

  func write(_ name: String, _ text: String) throws -> URL {
    let target = file(name)
    try text.write(to: target, atomically: true, encoding: .utf8)
    return target
  }

  func remove() { try? FileManager.default.removeItem(at: url) }
}
