import Foundation
@testable import EdgeTLS

/// Certificates made once per test run with the `openssl` CLI, in a temporary directory.
struct TestCertificates: Sendable {
  let directory: String

  static let shared: TestCertificates = {
    do { return try TestCertificates() } catch { fatalError("making test certificates: \(error)") }
  }()

  init() throws {
    directory = NSTemporaryDirectory() + "edge-tls-tests-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    // Swift Testing has no suite-wide teardown: remove the directory when the test process exits.
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "edge-tls-tests-\(getpid())") }
    try selfSigned("a.test", sans: "DNS:a.test,DNS:www.a.test,IP:127.0.0.1,IP:::1", key: .ec)
    try selfSigned("a2.test", sans: "DNS:a.test", key: .ec)  // a renewal of a.test
    try selfSigned("b.test", sans: "DNS:b.test", key: .rsa)
    try selfSigned("*.wild.test", sans: "DNS:*.wild.test", key: .ec)
    try selfSigned("default.test", sans: "DNS:default.test", key: .ec)
    try selfSigned("other.test", sans: "DNS:other.test", key: .ec)
    try issued("chain.test", by: "a.test")
  }

  enum KeyKind { case ec, rsa }

  private func selfSigned(_ name: String, sans: String, key: KeyKind) throws {
    let newKey = key == .ec ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"]
    try Self.openssl(
      ["req", "-x509"] + newKey + [
        "-nodes", "-keyout", path(name, "key"), "-out", path(name, "crt"), "-days", "30",
        "-subj", "/CN=\(name)", "-addext", "subjectAltName=\(sans)",
      ])
  }

  /// A leaf for `name` signed by `issuer`'s key; its .crt holds the leaf, then the issuer.
  private func issued(_ name: String, by issuer: String) throws {
    try Self.openssl([
      "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", path(name, "key"), "-out", path(name, "csr"), "-subj", "/CN=\(name)",
    ])
    let extensions = path(name, "ext")
    try "subjectAltName=DNS:\(name)\n".write(toFile: extensions, atomically: true, encoding: .utf8)
    try Self.openssl([
      "x509", "-req", "-in", path(name, "csr"), "-CA", path(issuer, "crt"), "-CAkey", path(issuer, "key"),
      "-CAcreateserial", "-out", path(name, "leaf"), "-days", "30", "-extfile", extensions,
    ])
    let chain = try String(contentsOfFile: path(name, "leaf"), encoding: .utf8)
      + String(contentsOfFile: path(issuer, "crt"), encoding: .utf8)
    try chain.write(toFile: path(name, "crt"), atomically: true, encoding: .utf8)
  }

  func path(_ name: String, _ ext: String) -> String { "\(directory)/\(name).\(ext)" }

  func pem(_ name: String) -> (chain: String, key: String) {
    // Files written by init; reading them cannot fail unless the temp dir vanished.
    let chain = (try? String(contentsOfFile: path(name, "crt"), encoding: .utf8)) ?? ""
    let key = (try? String(contentsOfFile: path(name, "key"), encoding: .utf8)) ?? ""
    return (chain, key)
  }

  func key(_ name: String) throws -> CertifiedKey {
    let (chain, key) = pem(name)
    return try CertifiedKey(chainPEM: chain, keyPEM: key)
  }

  static func openssl(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    do { try process.run() } catch {
      throw TestSetupError("openssl CLI not runnable (apt-get install openssl): \(error)")
    }
    let output = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw TestSetupError("openssl \(arguments.joined(separator: " ")): \(String(decoding: output, as: UTF8.self))")
    }
  }
}

struct TestSetupError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
