#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An open file descriptor, closed when the object goes away. Every call retries on EINTR and turns a
/// failure into `StorageError.io` naming what was being done to which path.
final class OpenFile {
  let descriptor: Int32
  let path: String

  /// Opens `path` with `flags` (O_CLOEXEC is always added, so no descriptor leaks into a child process).
  init(_ path: String, flags: Int32, mode: mode_t = 0, doing operation: String) throws(StorageError) {
    var fd: Int32
    repeat { fd = open(path, flags | O_CLOEXEC, mode) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { throw .system("\(operation) \(path)") }
    descriptor = fd
    self.path = path
  }

  /// The file at `path` opened, or nil when there is none (ENOENT, or ENOTDIR for a path through a file).
  static func ifPresent(_ path: String, flags: Int32, doing operation: String) throws(StorageError) -> OpenFile? {
    do {
      return try OpenFile(path, flags: flags, doing: operation)
    } catch {
      if error.isMissingPath { return nil }
      throw error
    }
  }

  deinit { close(descriptor) }

  func writeAll(_ bytes: [UInt8]) throws(StorageError) {
    var written = 0
    while written < bytes.count {
      let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
      if count < 0 {
        if errno == EINTR { continue }
        throw .system("writing \(path)")
      }
      written += count
    }
  }

  /// Everything from the current offset to the end of the file.
  func readAll(sizeHint: Int = 4096) throws(StorageError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(sizeHint, 1) + 1)
    var filled = 0
    while true {
      if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
      let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, $0.count - filled) }
      if count < 0 {
        if errno == EINTR { continue }
        throw .system("reading \(path)")
      }
      if count == 0 { break }
      filled += count
    }
    bytes.removeLast(bytes.count - filled)
    return bytes
  }

  func sync() throws(StorageError) {
    var status: Int32
    repeat { status = fsync(descriptor) } while status < 0 && errno == EINTR
    guard status == 0 else { throw .system("syncing \(path)") }
  }

  func status() throws(StorageError) -> stat {
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw .system("reading the status of \(path)") }
    return info
  }

  func setMode(_ mode: mode_t) throws(StorageError) {
    guard fchmod(descriptor, mode) == 0 else { throw .system("setting the permissions of \(path)") }
  }
}
