import EdgeLoop
import Foundation
import Glibc
import Synchronization

@testable import EdgeTLS

/// `openssl s_server -rev` on a free loopback port (it answers each line reversed), killed by PID.
final class OpenSSLServer: @unchecked Sendable {
  // Invariant: `process` is set in init and only killed in deinit.
  private let process = Process()
  let port: Int

  /// `arguments` come after `s_server -accept 127.0.0.1:0 -rev` (certificate, key, client verification).
  init(_ arguments: [String]) throws {
    ProcessSetup.prepare()  // a write to a closed socket must be EPIPE, not SIGPIPE
    // The log is a file, not a pipe: s_server writes a few lines per connection and must never block.
    let log = TestCertificates.shared.directory + "/s_server-\(UUID().uuidString).log"
    guard FileManager.default.createFile(atPath: log, contents: nil), let output = FileHandle(forWritingAtPath: log) else {
      throw TestSetupError("cannot create \(log)")
    }
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["s_server", "-accept", "127.0.0.1:0", "-rev"] + arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = output
    process.standardError = output
    do { try process.run() } catch { throw TestSetupError("openssl CLI not runnable (apt-get install openssl): \(error)") }
    // s_server prints `ACCEPT 127.0.0.1:<port>` once it listens.
    let deadline = ContinuousClock.now + .seconds(10)
    var found: Int?
    while found == nil {
      let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
      if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT 127.0.0.1:") }) {
        found = Int(line.dropFirst("ACCEPT 127.0.0.1:".count))
      }
      guard found != nil || (process.isRunning && ContinuousClock.now < deadline) else {
        process.terminate()
        throw TestSetupError("openssl s_server did not start: \(text)")
      }
      usleep(20_000)
    }
    port = found ?? 0
  }

  deinit {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }
}

/// One loop on its own thread for the socket tests of this module.
let clientTestLoop: EventLoop = {
  let loop = EventLoop(index: -1)
  loop.runOnNewThread(name: "tls-client-tests")
  return loop
}()

/// What a stream's owner heard, readable from the test task.
final class StreamRecorder: TCPStreamDelegate, Sendable {
  struct Heard: Sendable {
    var bytes: [UInt8] = []
    var eof = false
    var error: UVError?
    var tlsFailure: TLSFailure?
    var handshake: TLSHandshake?
  }
  let heard = Mutex(Heard())

  var text: String { heard.withLock { String(decoding: $0.bytes, as: UTF8.self) } }
  var snapshot: Heard { heard.withLock { $0 } }

  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) { heard.withLock { $0.bytes += bytes } }
  func streamDidReachEOF(_ stream: TCPStream) {
    heard.withLock { $0.eof = true }
    stream.close()
  }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) {
    heard.withLock { $0.error = error }
    stream.close()
  }
  func streamDidDrain(_ stream: TCPStream) {}
}
