#if canImport(Glibc)
  import Glibc
#endif

/// The system's trusted roots on Debian/Ubuntu, for `edge trust`: a root goes into
/// `/usr/local/share/ca-certificates/<name>.crt`, then `update-ca-certificates` rebuilds
/// `/etc/ssl/certs`. Needs root; the CLI prints the error as it is.
public struct TrustStore: Sendable {
  /// Where local roots go (default `/usr/local/share/ca-certificates`).
  public let directory: String
  /// Run after a root is written (default `update-ca-certificates`), looked up on PATH.
  public let updateCommand: [String]
  /// Whose rights the process has; injectable for tests (which run as root in CI containers).
  let effectiveUserID: uid_t

  public init(
    directory: String = "/usr/local/share/ca-certificates", updateCommand: [String] = ["update-ca-certificates"]
  ) {
    self.init(directory: directory, updateCommand: updateCommand, effectiveUserID: geteuid())
  }

  init(directory: String, updateCommand: [String], effectiveUserID: uid_t) {
    self.directory = directory
    self.updateCommand = updateCommand
    self.effectiveUserID = effectiveUserID
  }

  /// The file a root named `name` is stored in: `name` with anything but letters, digits, `.`, `_`
  /// and `-` replaced by `-` (update-ca-certificates only picks up `*.crt`).
  public func path(forRootNamed name: String) -> String {
    let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "-" })
    return "\(directory)/\(safe).crt"
  }

  /// Whether exactly this root is installed under `name`.
  public func isInstalled(pem: String, name: String) -> Bool {
    guard let installed = try? AtomicFile.read(path(forRootNamed: name)) else { return false }
    return installed == pem
  }

  /// Writes the root into the system store and runs the update command.
  public func installRoot(pem: String, name: String) throws(TrustStoreError) {
    let path = path(forRootNamed: name)
    guard effectiveUserID == 0 else {
      throw TrustStoreError("installing the root certificate into \(directory) needs root; run `sudo edge trust`")
    }
    if mkdir(directory, 0o755) != 0, errno != EEXIST {
      throw TrustStoreError("installing the root certificate: creating \(directory): \(systemErrorText(errno))")
    }
    do { try AtomicFile.write(pem, to: path, mode: 0o644) } catch {
      throw TrustStoreError("installing the root certificate: \(error)")
    }
    let status = Self.run(updateCommand)
    guard status == 0 else {
      throw TrustStoreError("installing the root certificate: \(updateCommand.joined(separator: " ")) \(status < 0 ? "could not be started: \(systemErrorText(-status))" : "exited with status \(status)")")
    }
  }

  /// Runs `command` (PATH lookup) and waits: its exit status, or -errno when it could not start.
  private static func run(_ command: [String]) -> Int32 {
    guard let program = command.first else { return 0 }
    var arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
    defer { for argument in arguments { free(argument) } }
    var pid = pid_t()
    let spawned = posix_spawnp(&pid, program, nil, nil, &arguments, environ)
    if spawned != 0 { return -spawned }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      if errno != EINTR { return -errno }
    }
    // WIFEXITED / WEXITSTATUS are macros: exited normally when the low 7 bits are 0.
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
  }
}

/// Why `edge trust` could not install the root, with what to do about it.
public struct TrustStoreError: Error, Sendable, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
