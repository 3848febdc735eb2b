import RedisTestSupport
import EdgeLoop
import Foundation
import Testing

@testable import EdgeRedis

/// Certificates edge must not accept. A refusal is not a passing outage, but it is retried like one (with
/// backoff): the operator may fix the server's certificate or the CA file without restarting edge. The
/// reason says what is wrong, once per outage.
@Suite("Refused TLS servers")
struct RedisTLSRefusalTests {
  let pki = TestPKI.shared

  @Test(
    "a server certificate that does not verify is refused with the reason, and retried",
    arguments: [
      // (certificate the server presents, trust the test CA?, what OpenSSL says)
      ("rogue", true, "unable to get local issuer certificate"),  // issued by a CA nobody trusts
      ("server", false, "self-signed certificate in certificate chain"),  // the test CA is no system root
      ("other", true, "IP address mismatch"),  // names other.test, not 127.0.0.1
    ])
  func refused(_ certificate: String, _ trustTestCA: Bool, _ why: String) async throws {
    let server = try RedisServer(tls: .init(certificate: certificate))
    var url = server.url
    if !trustTestCA { url.tlsOptions.caFile = nil }
    let client = RedisClient(url: url, loop: testLoop)
    let states = Recorder<RedisConnectionState>()
    try await onLoop {
      client.onStateChange = { states.append($0) }
      try client.connect()
    }
    try await waitUntil("the refusal") { !states.all.isEmpty }
    let expected = "connecting to \(url): TLS failed: certificate verification failed for 127.0.0.1: \(why)"
    #expect(states.all.first == .disconnected(reason: expected))
    await #expect(throws: RedisError.connectionLost) { try await client.command("PING") }

    try await Task.sleep(for: .milliseconds(500))  // several attempts, reported once
    #expect(states.all.count == 1)
    #expect(!client.isConnected)
    try await onLoop { client.close() }
  }

  @Test("a refused server is retried, and a CA file fixed meanwhile is read again: no restart needed")
  func fixedCAFile() async throws {
    let server = try RedisServer(tls: .init())
    let caFile = pki.directory + "/rotating-ca-\(UUID().uuidString).pem"
    try String(contentsOfFile: pki.certificate("rogue-ca"), encoding: .utf8).write(toFile: caFile, atomically: true, encoding: .utf8)
    var url = server.url
    url.tlsOptions.caFile = caFile
    let client = RedisClient(url: url, loop: testLoop)
    let states = Recorder<RedisConnectionState>()
    try await onLoop {
      client.onStateChange = { states.append($0) }
      try client.connect()
    }
    try await waitUntil("the refusal") { !states.all.isEmpty }
    guard case .disconnected(let reason) = states.all[0] else { throw TestFailure("expected a refusal, got \(states.all)") }
    #expect(reason.contains("certificate verification failed for 127.0.0.1"), "\(reason)")

    try String(contentsOfFile: pki.certificate("ca"), encoding: .utf8).write(toFile: caFile, atomically: true, encoding: .utf8)
    try await waitUntil("the client to connect with the fixed CA file") { states.all.last == .connected }
    #expect(try await client.command("PING") == .status("PONG"))
    try await onLoop { client.close() }
  }

  @Test("tls-auth-clients yes: cert= and key= get in; without them the server's refusal is reported")
  func mutualTLS() async throws {
    let server = try RedisServer(tls: .init(requireClientCertificate: true))
    var url = server.url
    url.tlsOptions.certificateFile = pki.certificate("client")
    url.tlsOptions.keyFile = pki.key("client")
    let (client, _) = try await connectedClient(url)
    #expect(try await client.command("SET", "mtls", "yes") == .status("OK"))
    #expect(try await client.command("GET", "mtls") == .bulk(Array("yes".utf8)))

    // redis-server sends its alert (116 certificate_required) and closes with our PING unread, so the
    // reset can overtake the alert: either way the reason must point at the missing certificate.
    let reason = try await firstDisconnect(server.url)
    #expect(reason.hasPrefix("connecting to \(server.url): "), "\(reason)")
    #expect(
      reason.contains("TLS failed: ") && reason.contains("certificate required")
        || reason.hasSuffix("right after the TLS handshake (does the server require a client certificate? see cert= and key=)"),
      "\(reason)")
    try await onLoop { client.close() }
  }
}
