#if canImport(Glibc)
  import Glibc
#endif

/// Whole-file reads and crash-safe writes for the CA's small PEM files.
/// A write goes to a temporary file in the same directory, is fsynced, then renamed over the target
/// (and the directory fsynced), so a crash leaves the old file or the new one, never half of either.
enum AtomicFile {
  /// Largest file read (PEM certificates and keys are a few KiB).
  static let maximumSize = 1 << 20

  /// The file's text, or nil when it does not exist.
  static func read(_ path: String) throws(CAFileError) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return nil }
      throw CAFileError("reading", path, errno: errno)
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
      let count = Glibc.read(fd, &chunk, chunk.count)
      if count < 0 {
        if errno == EINTR { continue }
        throw CAFileError("reading", path, errno: errno)
      }
      if count == 0 { break }
      bytes += chunk[0..<count]
      if bytes.count > maximumSize { throw CAFileError("reading", path, reason: "larger than \(maximumSize) bytes") }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Replaces `path` with `text`, file mode `mode` (exactly; the umask does not apply).
  static func write(_ text: String, to path: String, mode: mode_t) throws(CAFileError) {
    let directory = parentDirectory(of: path)
    var template = Array("\(directory)/.\(baseName(of: path)).tmp-XXXXXX".utf8CString)
    let fd = mkstemp(&template)  // mode 0600 until fill() sets `mode`
    if fd < 0 { throw CAFileError("writing", path, errno: errno) }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    do throws(CAFileError) {
      try fill(fd, with: Array(text.utf8), mode: mode, path: path)
    } catch {
      close(fd)
      unlink(temporary)
      throw error
    }
    if close(fd) != 0 {
      let code = errno
      unlink(temporary)
      throw CAFileError("writing", path, errno: code)
    }
    if rename(temporary, path) != 0 {
      let code = errno
      unlink(temporary)
      throw CAFileError("writing", path, errno: code)
    }
    try syncDirectory(directory, for: path)
  }

  /// Removes `path` (missing is fine).
  static func remove(_ path: String) {
    unlink(path)
  }

  private static func fill(_ fd: Int32, with bytes: [UInt8], mode: mode_t, path: String) throws(CAFileError) {
    if fchmod(fd, mode) != 0 { throw CAFileError("writing", path, errno: errno) }
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if written < 0 {
        if errno == EINTR { continue }
        throw CAFileError("writing", path, errno: errno)
      }
      offset += written
    }
    if fsync(fd) != 0 { throw CAFileError("writing", path, errno: errno) }
  }

  /// fsync on the directory makes the rename itself durable.
  private static func syncDirectory(_ directory: String, for path: String) throws(CAFileError) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 { throw CAFileError("writing", path, errno: errno) }
    defer { close(fd) }
    if fsync(fd) != 0 { throw CAFileError("writing", path, errno: errno) }
  }

  static func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  static func baseName(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
  }
}

/// `strerror` text with a lower-case first letter (`permission denied`), to read well mid-sentence.
func systemErrorText(_ code: Int32) -> String {
  let text = String(cString: strerror(code))
  return text.prefix(1).lowercased() + text.dropFirst()
}
