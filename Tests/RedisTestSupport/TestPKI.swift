import Foundation

/// CAs and certificates for the TLS tests, made once per test run with the `openssl` CLI in a
/// temporary directory (removed when the test process exits).
///
/// - `ca`: the CA redis-server and the clients trust.
/// - `server`: issued by `ca` for DNS `redis.test` and IP 127.0.0.1.
/// - `other`: issued by `ca` for DNS `other.test` only (does not name 127.0.0.1).
/// - `rogue-ca` and `rogue`: an unknown CA, and a certificate for 127.0.0.1 that it issued.
/// - `client`: a client certificate issued by `ca`.
public struct TestPKI: Sendable {
  public let directory: String

  public static let shared: TestPKI = {
    do { return try TestPKI() } catch { fatalError("making the test PKI: \(error)") }
  }()

  private init() throws {
    directory = NSTemporaryDirectory() + "edge-redis-tls-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    // Swift Testing has no suite-wide teardown: remove the directory when the test process exits.
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "edge-redis-tls-\(getpid())") }
    try authority("ca")
    try authority("rogue-ca")
    try issue("server", by: "ca", extensions: "subjectAltName=DNS:redis.test,IP:127.0.0.1")
    try issue("other", by: "ca", extensions: "subjectAltName=DNS:other.test")
    try issue("rogue", by: "rogue-ca", extensions: "subjectAltName=DNS:redis.test,IP:127.0.0.1")
    try issue("client", by: "ca", extensions: "extendedKeyUsage=clientAuth")
  }

  public func certificate(_ name: String) -> String { "\(directory)/\(name).crt" }
  public func key(_ name: String) -> String { "\(directory)/\(name).key" }

  private func authority(_ name: String) throws {
    try Self.openssl([
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
      "-keyout", key(name), "-out", certificate(name), "-subj", "/CN=edge test \(name)",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
    ])
  }

  private func issue(_ name: String, by issuer: String, extensions: String) throws {
    let request = "\(directory)/\(name).csr"
    let extensionFile = "\(directory)/\(name).ext"
    try Self.openssl([
      "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", key(name), "-out", request, "-subj", "/CN=\(name)",
    ])
    try (extensions + "\n").write(toFile: extensionFile, atomically: true, encoding: .utf8)
    try Self.openssl([
      "x509", "-req", "-in", request, "-CA", certificate(issuer), "-CAkey", key(issuer),
      "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2", "-extfile", extensionFile,
      "-out", certificate(name),
    ])
  }

  private static func openssl(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    do { try process.run() } catch { throw TestFailure("openssl CLI not runnable (apt-get install openssl): \(error)") }
    let output = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw TestFailure("openssl \(arguments.joined(separator: " ")): \(String(decoding: output, as: UTF8.self))")
    }
  }
}
