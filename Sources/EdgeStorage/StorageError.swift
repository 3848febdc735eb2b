#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a storage operation can fail with. A missing key is `notFound`, never an I/O error, so callers can
/// tell "nothing stored yet" from "the disk is broken": `catch StorageError.notFound { … }`.
///
/// An enum (not the house's struct-over-private-enum) because callers match on the cases across modules and
/// every backend (the file system now, Redis later) produces the same ones.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Nothing is stored at `key`.
  case notFound(key: String)
  /// `key` cannot name anything: empty, absolute, or with an empty, `.`, `..` or dot-first segment.
  case invalidKey(String, reason: String)
  /// The backend failed: `operation` is what was being done ("writing /srv/edge/certificates/a.crt"),
  /// `errno` the system's code when there is one.
  case io(operation: String, errno: Int32?, detail: String)
  /// The lock `name` is no longer this holder's: it went stale and someone else took it.
  case lockLost(name: String)
  /// `withLock` waited `timeout` for `name` without getting it.
  case lockTimeout(name: String, timeout: Duration)

  public var description: String {
    switch self {
    case .notFound(let key): "storage: '\(key)' not found"
    case .invalidKey(let key, let reason): "storage: invalid key '\(key)': \(reason)"
    case .io(let operation, _, let detail): "storage: \(operation): \(detail)"
    case .lockLost(let name): "storage: lock '\(name)' was taken over by another owner"
    case .lockTimeout(let name, let timeout): "storage: lock '\(name)' still held by another owner after \(timeout)"
    }
  }

  /// The error for a failed system call: `operation` says what it was for, the detail is strerror's text.
  static func system(_ operation: String, errno code: Int32 = errno) -> StorageError {
    .io(operation: operation, errno: code, detail: String(cString: strerror(code)))
  }
}

extension StorageError {
  /// The failure was "no such file" (or a path component is not a directory): the key is not there.
  var isMissingPath: Bool {
    if case .io(_, let code?, _) = self { return code == ENOENT || code == ENOTDIR }
    return false
  }
}
