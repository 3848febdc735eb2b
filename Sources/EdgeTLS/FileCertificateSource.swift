import Dispatch

/// Certificates kept as files in one directory: `<name>.crt` (chain PEM, leaf first) and `<name>.key`.
/// A wildcard certificate is found as `*.example.com.crt` when `a.example.com.crt` does not exist.
///
/// Files are read on a background queue, never on the loop that asked. A name with a `/`, or starting with
/// a dot, is answered nil without touching the disk (server names come from the network).
public struct FileCertificateSource: CertificateSource {
  public let directory: String
  private let queue: DispatchQueue
  /// Told about files that exist but cannot be loaded (a key that does not match, broken PEM).
  private let onError: @Sendable (CertificateError) -> Void

  public init(directory: String, onError: @escaping @Sendable (CertificateError) -> Void = { _ in }) {
    self.directory = directory
    self.onError = onError
    queue = DispatchQueue(label: "edge.tls.file-certificates", attributes: .concurrent)
  }

  public func certificate(for serverName: String, _ done: @escaping @Sendable (CertifiedKey?) -> Void) {
    let name = serverName.lowercased()
    guard Self.isSafeFileName(name) else { return done(nil) }
    queue.async { done(load(name)?.key) }
  }

  /// Loads `name`, then the wildcard for its parent domain, on the calling thread: the certificate and the
  /// file it came from. Unsafe names are answered nil. A wildcard is stored as `wildcard_.example.com`
  /// (as the ACME agent writes it, `StorageKeys`), or hand-placed as `*.example.com`.
  public func load(_ name: String) -> (key: CertifiedKey, file: String)? {
    guard Self.isSafeFileName(name) else { return nil }
    var candidates = [name]
    if let wildcard = WildcardName.covering(name) {
      candidates.append("wildcard_" + wildcard.dropFirst())
      candidates.append(wildcard)
    }
    for candidate in candidates {
      let base = directory + "/" + candidate
      do {
        return (try CertifiedKey(certificateFile: base + ".crt", keyFile: base + ".key"), base + ".crt")
      } catch {
        // A missing file is the ordinary miss; anything else is worth telling the operator.
        if case .unreadable = error.reason { continue }
        onError(error)
      }
    }
    return nil
  }

  static func isSafeFileName(_ name: String) -> Bool {
    !name.isEmpty && !name.hasPrefix(".") && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(0)
  }
}
