import Foundation
import Testing

@testable import EdgeTLS

/// The proof that matters: a real TLS client (openssl s_client) trusts a leaf served by a real server
/// (openssl s_server) with only root.crt as its trust anchor.
@Suite("local CA: TLS handshake with openssl")
struct LocalCAHandshakeTests {
  /// An `openssl s_server` on 127.0.0.1 (a port the kernel picks), serving `chainPEM` and `keyPEM`.
  final class TLSServer {
    let process = Process()
    let port: Int

    init(chainPEM: String, keyPEM: String, in scratch: ScratchDirectory) throws {
      let end = chainPEM.range(of: "-----END CERTIFICATE-----\n")!.upperBound
      try scratch.write(String(chainPEM[..<end]), to: "served-leaf.crt")
      try scratch.write(String(chainPEM[end...]), to: "served-chain.crt")
      try scratch.write(keyPEM, to: "served-leaf.key")
      port = try freeLoopbackPort()
      process.executableURL = URL(fileURLWithPath: try opensslPath())
      process.arguments = [
        "s_server", "-accept", "127.0.0.1:\(port)", "-cert", scratch.file("served-leaf.crt"),
        "-cert_chain", scratch.file("served-chain.crt"), "-key", scratch.file("served-leaf.key"),
      ]
      // Its stdout is a pipe, so block-buffered: wait for the port to accept instead of for "ACCEPT".
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      process.standardInput = Pipe()  // kept open: s_server reads commands from stdin
      try process.run()
      try waitUntilAccepting(port, while: process)
    }

    /// Stops the server by its PID. SIGKILL: children of the test runner start with SIGTERM blocked.
    func stop() {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }

  private func connect(_ port: Int, caFile: String, extra: [String]) throws -> CommandResult {
    try openssl(
      ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-verify_return_error", "-CAfile", caFile]
        + extra)
  }

  @Test("s_client verifies the chain with root.crt as the only anchor, for a DNS and an IP SAN")
  func handshakeSucceeds() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let issued = try ca.issue(for: ["localhost", "127.0.0.1", "::1"])
    let server = try TLSServer(chainPEM: issued.chainPEM, keyPEM: issued.keyPEM, in: scratch)
    defer { server.stop() }

    let byName = try connect(server.port, caFile: scratch.file("root.crt"), extra: ["-verify_hostname", "localhost"])
    #expect(byName.status == 0, "\(byName.output)")
    #expect(byName.output.contains("Verify return code: 0 (ok)"))
    #expect(byName.output.contains("1 s:O = edge Local Authority, CN = edge Local Authority - ECC Intermediate"))

    let byAddress = try connect(server.port, caFile: scratch.file("root.crt"), extra: ["-verify_ip", "127.0.0.1"])
    #expect(byAddress.status == 0, "\(byAddress.output)")
  }

  @Test("s_client refuses the same server when it trusts another local CA's root, or a name not in the SANs")
  func handshakeFailsWithoutTrust() throws {
    let scratch = try ScratchDirectory()
    let ca = try LocalCA(directory: scratch.caDirectory)
    let stranger = try ScratchDirectory()
    _ = try LocalCA(directory: stranger.caDirectory)
    let issued = try ca.issue(for: ["localhost"])
    let server = try TLSServer(chainPEM: issued.chainPEM, keyPEM: issued.keyPEM, in: scratch)
    defer { server.stop() }

    let untrusted = try connect(server.port, caFile: stranger.file("root.crt"), extra: [])
    #expect(untrusted.status != 0)
    #expect(untrusted.output.contains("unable to get local issuer certificate"), "\(untrusted.output)")

    let wrongName = try connect(server.port, caFile: scratch.file("root.crt"), extra: ["-verify_hostname", "other.internal"])
    #expect(wrongName.status != 0)
    #expect(wrongName.output.contains("hostname mismatch"), "\(wrongName.output)")
  }
}
