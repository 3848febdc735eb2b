import EdgeCore
import EdgeLoop
import Foundation
import Synchronization
import Testing

@testable import EdgeTLS

/// The client layer under a real `TCPStream` on a loop, against OpenSSL's own server.
@Suite("TLS client layer against openssl s_server")
struct TLSClientLayerTests {
  let certificates = TestCertificates.shared
  /// s_server presents a.test (self-signed; DNS a.test, IP 127.0.0.1).
  var serverA: [String] { ["-cert", certificates.path("a.test", "crt"), "-key", certificates.path("a.test", "key")] }
  var trustingA: TLSClientConfiguration { TLSClientConfiguration(trustedCAFile: certificates.path("a.test", "crt")) }
  /// s_server refuses clients without a certificate issued by a.test.
  var requiringClientCertificate: [String] {
    ["-Verify", "1", "-verify_return_error", "-CAfile", certificates.path("a.test", "crt")]
  }

  @Test("a line written before the handshake goes out sealed once it completes; the answer comes back in plaintext")
  func roundTrip() async throws {
    let server = try OpenSSLServer(serverA)
    let (heard, connection) = try await dial(server.port, trustingA, writing: "hello edge\n")
    try await waitUntil("the reversed line") { heard.text == "egde olleh\n" || heard.snapshot.error != nil }
    #expect(heard.text == "egde olleh\n", "heard: \(heard.snapshot)")
    #expect(heard.snapshot.handshake?.version == .tls13)
    #expect(heard.snapshot.handshake?.serverName == nil)  // an IP address: no SNI
    await connection.close()
  }

  @Test("mutual TLS: a server that requires a client certificate accepts one its CA issued")
  func clientCertificate() async throws {
    let server = try OpenSSLServer(serverA + requiringClientCertificate)
    var configuration = trustingA
    configuration.certificateFile = certificates.path("chain.test", "crt")
    configuration.privateKeyFile = certificates.path("chain.test", "key")
    let (heard, connection) = try await dial(server.port, configuration, writing: "mtls\n")
    try await waitUntil("the reversed line") { heard.text == "sltm\n" || heard.snapshot.error != nil }
    #expect(heard.text == "sltm\n", "heard: \(heard.snapshot)")
    await connection.close()
  }

  @Test("mutual TLS: without a client certificate the stream fails with the server's alert")
  func missingClientCertificate() async throws {
    let server = try OpenSSLServer(serverA + requiringClientCertificate)
    let (heard, connection) = try await dial(server.port, trustingA, writing: "no cert\n")
    try await waitUntil("the failure") { heard.snapshot.error != nil || heard.snapshot.eof }
    let seen = heard.snapshot
    #expect(seen.bytes.isEmpty)
    #expect(seen.error == .securityFailure)
    #expect(seen.tlsFailure?.reason.contains("certificate required") == true, "heard: \(seen)")
    await connection.close()
  }

  @Test("a server certificate that does not verify fails the stream before any data, and says why")
  func unverifiedServer() async throws {
    let server = try OpenSSLServer(["-cert", certificates.path("b.test", "crt"), "-key", certificates.path("b.test", "key")])
    let (heard, connection) = try await dial(server.port, trustingA, writing: "secret\n")
    try await waitUntil("the failure") { heard.snapshot.error != nil || heard.snapshot.eof }
    let seen = heard.snapshot
    #expect(seen.bytes.isEmpty)
    #expect(seen.error == .securityFailure)
    #expect(seen.handshake == nil)
    #expect(seen.tlsFailure?.reason.hasPrefix("certificate verification failed for 127.0.0.1: ") == true, "heard: \(seen)")
    await connection.close()
  }

  /// Connects to 127.0.0.1:`port` on the test loop, attaches a layer checking `serverName`, and writes
  /// `line` at once (before the handshake can have completed).
  private func dial(
    _ port: Int, _ configuration: TLSClientConfiguration, serverName: String = "127.0.0.1", writing line: String
  ) async throws -> (StreamRecorder, TestConnection) {
    let context = try TLSClientContext(configuration: configuration)
    let heard = StreamRecorder()
    let connection = TestConnection()
    let address = try #require(SocketAddress(ip: "127.0.0.1", port: port))
    let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
      clientTestLoop.execute {
        TCPStream.connect(on: clientTestLoop, to: address, timeoutMilliseconds: 5_000) { result in
          continuation.resume(
            returning: Result {
              let stream = try result.get()
              connection.stream.withLock { $0 = stream }
              let layer = try TLSClientLayer.attach(to: stream, context: context, serverName: serverName)
              layer.onFailure = { failure in heard.heard.withLock { $0.tlsFailure = failure } }
              layer.onEstablished = { info in heard.heard.withLock { $0.handshake = info } }
              stream.delegate = heard
              stream.startReading()
              stream.write(Array(line.utf8))
            })
        }
      }
    }
    try result.get()
    return (heard, connection)
  }
}

/// The test's stream, closed on its loop at the end.
final class TestConnection: Sendable {
  let stream = Mutex<TCPStream?>(nil)

  func close() async {
    let stream = self.stream.withLock { $0 }
    await withCheckedContinuation { continuation in
      clientTestLoop.execute {
        stream?.close()
        continuation.resume()
      }
    }
  }
}

func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
  let deadline = ContinuousClock.now + timeout
  while !condition() {
    guard ContinuousClock.now < deadline else { throw TestSetupError("timed out waiting for \(what)") }
    try await Task.sleep(for: .milliseconds(20))
  }
}
