import Foundation
import Synchronization
import Testing

@testable import EdgeTLS

/// A fresh directory under /tmp, removed when the value goes away.
final class ScratchDirectory {
  let path: String

  init() throws {
    var template = Array("/tmp/edge-ca-tests.XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw CLIFailure(message: "mkdtemp: \(String(cString: strerror(errno)))") }
    path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// The CA's storage directory inside (not created: the CA creates it).
  var caDirectory: String { "\(path)/pki/local" }

  func file(_ name: String) -> String { "\(caDirectory)/\(name)" }

  /// Writes `text` to `<caDirectory>/<name>`.
  func write(_ text: String, to name: String) throws {
    try text.write(toFile: file(name), atomically: false, encoding: .utf8)
  }

  func read(_ name: String) throws -> String { try String(contentsOfFile: file(name), encoding: .utf8) }
}

struct CLIFailure: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}

/// What a command printed and how it ended.
struct CommandResult {
  let status: Int32
  let output: String  // stdout and stderr, interleaved
}

/// Runs `openssl` with `arguments` (stdin from /dev/null). A missing binary fails with an install hint.
@discardableResult
func openssl(_ arguments: [String]) throws -> CommandResult {
  try run(opensslPath(), arguments)
}

func opensslPath() throws -> String {
  for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/openssl") {
    return "\(directory)/openssl"
  }
  throw CLIFailure(message: "the openssl CLI is needed by these tests: apt-get install openssl")
}

func run(_ executable: String, _ arguments: [String]) throws -> CommandResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return CommandResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Permission bits of a file or directory.
func mode(of path: String) throws -> Int {
  let attributes = try FileManager.default.attributesOfItem(atPath: path)
  return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// The current Unix time.
func unixNow() -> Int { Int(Date().timeIntervalSince1970) }

/// A clock the test moves by hand.
final class ManualClock: Sendable {
  private let seconds: Mutex<Int>
  init(_ start: Int = unixNow()) { seconds = Mutex(start) }
  var now: Int { seconds.withLock { $0 } }
  func advance(by delta: Int) { seconds.withLock { $0 += delta } }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
func freeLoopbackPort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw CLIFailure(message: "socket: \(String(cString: strerror(errno)))") }
  defer { close(fd) }
  var address = loopback(port: 0)
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
      bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
    }
  }
  guard bound else { throw CLIFailure(message: "bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
  return Int(UInt16(bigEndian: address.sin_port))
}

/// Polls until 127.0.0.1:`port` accepts a connection (5 s at most), failing early if `process` exits.
func waitUntilAccepting(_ port: Int, while process: Process) throws {
  for _ in 0..<100 {
    guard process.isRunning else { throw CLIFailure(message: "the server on port \(port) exited (\(process.terminationStatus))") }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = loopback(port: port)
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    close(fd)
    if connected { return }
    usleep(50_000)
  }
  throw CLIFailure(message: "nothing accepted on 127.0.0.1:\(port) within 5 s")
}

private func loopback(port: Int) -> sockaddr_in {
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = UInt16(port).bigEndian
  address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
  return address
}
