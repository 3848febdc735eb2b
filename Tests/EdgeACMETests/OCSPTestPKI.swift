import Foundation

/// A small PKI made with the `openssl` CLI in a fresh directory (removed with the value): a root, an
/// intermediate that issues leaves and signs OCSP answers, a responder certificate the intermediate
/// delegated OCSP signing to (id-kp-OCSPSigning), one it issued without that usage, and an impostor
/// CA nobody trusts. `index.txt` is the `openssl ocsp` status database.
final class OCSPTestPKI {
  let directory: String

  init() throws {
    var template = Array("/tmp/edge-ocsp-tests.XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))") }
    directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    try selfSigned("root", subject: "/CN=OCSP Test Root")
    try issue("intermediate", by: "root", serial: "0x02", extensions: [
      "basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    ])
    try issue("delegated", by: "intermediate", serial: "0x03", extensions: ["extendedKeyUsage=OCSPSigning"])
    try issue("undelegated", by: "intermediate", serial: "0x04", extensions: ["extendedKeyUsage=serverAuth"])
    // Same name as the intermediate: its answers claim to come from the issuer, signed by another key.
    try selfSigned("impostor", subject: "/CN=intermediate")
    try writeIndex([])
  }

  deinit { try? FileManager.default.removeItem(atPath: directory) }

  func path(_ name: String) -> String { "\(directory)/\(name)" }

  /// A leaf for `name` issued by the intermediate, its authorityInfoAccess naming `ocspURL` (none when
  /// nil). Returns the chain PEM: the leaf, then the intermediate.
  func leaf(_ name: String, serial: String, ocspURL: String?) throws -> String {
    var extensions = ["subjectAltName=DNS:\(name)"]
    if let ocspURL { extensions.append("authorityInfoAccess=OCSP;URI:\(ocspURL)") }
    try issue(name, by: "intermediate", serial: "0x\(serial)", extensions: extensions)
    return try String(contentsOfFile: path("\(name).crt"), encoding: .utf8) + pem("intermediate")
  }

  func pem(_ name: String) throws -> String { try String(contentsOfFile: path("\(name).crt"), encoding: .utf8) }

  enum IndexEntry {
    case valid(serial: String, name: String)
    case revoked(serial: String, name: String, at: Date)
  }

  /// Rewrites `index.txt` (read by the responder at every request). Lines are the `openssl ca` database:
  /// status, expiry, revocation time, serial in hex, file name, subject; separated by tabs.
  func writeIndex(_ entries: [IndexEntry]) throws {
    let lines = entries.map { entry -> String in
      switch entry {
      case .valid(let serial, let name):
        return "V\t351231235959Z\t\t\(serial.uppercased())\tunknown\t/CN=\(name)\n"
      case .revoked(let serial, let name, let at):
        return "R\t351231235959Z\t\(Self.indexTime(at)),keyCompromise\t\(serial.uppercased())\tunknown\t/CN=\(name)\n"
      }
    }
    try lines.joined().write(toFile: path("index.txt"), atomically: true, encoding: .utf8)
  }

  /// UTCTime as the CA database writes it: YYMMDDHHMMSSZ.
  private static func indexTime(_ date: Date) -> String {
    var seconds = time_t(date.timeIntervalSince1970)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return String(
      format: "%02d%02d%02d%02d%02d%02dZ", parts.tm_year % 100, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
      parts.tm_min, parts.tm_sec)
  }

  private func selfSigned(_ name: String, subject: String) throws {
    try openssl(
      ["req", "-x509"] + Self.newKey + [
        "-keyout", path("\(name).key"), "-out", path("\(name).crt"), "-days", "30", "-subj", subject,
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      ])
  }

  private func issue(_ name: String, by issuer: String, serial: String, extensions: [String]) throws {
    try openssl(["req", "-new"] + Self.newKey + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(name)"])
    try (extensions.joined(separator: "\n") + "\n").write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
    try openssl([
      "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(issuer).crt"), "-CAkey", path("\(issuer).key"),
      "-set_serial", serial, "-days", "30", "-extfile", path("\(name).ext"), "-out", path("\(name).crt"),
    ])
  }

  private static let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
}

/// Runs the `openssl` CLI (stdin from /dev/null); a non-zero exit throws with what it printed.
func openssl(_ arguments: [String]) throws {
  let result = try runOpenSSL(arguments)
  guard result.status == 0 else { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(result.output)") }
}

func runOpenSSL(_ arguments: [String]) throws -> (status: Int32, output: String) {
  guard let executable = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"].first(where: {
    FileManager.default.isExecutableFile(atPath: $0)
  }) else { throw TestFailure("the openssl CLI is needed by these tests: apt-get install openssl") }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  process.standardInput = FileHandle.nullDevice
  try process.run()
  let output = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}
