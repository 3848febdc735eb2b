#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// File-system steps the storage shares between values and locks.
enum FileSystem {
  /// Makes a rename, link or unlink in `directory` durable: without it a crash can forget the new name even
  /// though the file's contents were synced.
  static func syncDirectory(_ directory: String) throws(StorageError) {
    let file = try OpenFile(directory, flags: O_RDONLY | O_DIRECTORY, doing: "opening directory")
    try file.sync()
  }

  /// Creates `path` and its missing parents with mode 0700 (whatever the umask); existing directories are
  /// left as they are.
  static func makeDirectories(_ path: String) throws(StorageError) {
    var info = stat()
    if stat(path, &info) == 0 {
      guard info.st_mode & S_IFMT == S_IFDIR else {
        throw .io(operation: "creating directory \(path)", errno: ENOTDIR, detail: "a file is in the way")
      }
      return
    }
    let parent = parentDirectory(of: path)
    if parent != path { try makeDirectories(parent) }
    if mkdir(path, 0o700) == 0 {
      // mkdir's mode went through the umask; a created directory gets exactly 0700.
      guard chmod(path, 0o700) == 0 else { throw .system("setting the permissions of \(path)") }
    } else if errno != EEXIST {
      throw .system("creating directory \(path)")
    }
  }

  /// stat(2) of `path` (lstat(2) when `followLinks` is false).
  static func status(_ path: String, followLinks: Bool = true) throws(StorageError) -> stat {
    var info = stat()
    let result = followLinks ? stat(path, &info) : lstat(path, &info)
    guard result == 0 else { throw .system("reading the status of \(path)") }
    return info
  }

  /// `status`, or nil when nothing is at `path` (ENOENT, or ENOTDIR for a path through a file).
  static func statusIfPresent(_ path: String, followLinks: Bool = true) throws(StorageError) -> stat? {
    var info = stat()
    let result = followLinks ? stat(path, &info) : lstat(path, &info)
    guard result == 0 else {
      if errno == ENOENT || errno == ENOTDIR { return nil }
      throw .system("reading the status of \(path)")
    }
    return info
  }

  static func isDirectory(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFDIR }
  static func isRegularFile(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFREG }

  static func parentDirectory(of path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
    if slash == path.utf8.startIndex { return "/" }
    return String(path[..<slash])
  }

  static func lastComponent(of path: String) -> Substring {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path[...] }
    return path[path.utf8.index(after: slash)...]
  }

  /// A name for a temporary file next to `path`: dot-first (so listings and keys never include it) and
  /// random (so concurrent writers never share one).
  static func temporaryPath(beside path: String) -> String {
    parentDirectory(of: path) + "/." + randomHex(bytes: 8) + ".tmp"
  }

  static func randomHex(bytes: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    var text = ""
    for _ in 0..<bytes {
      let byte = UInt8.random(in: 0...255, using: &generator)
      text += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
    }
    return text
  }

  /// Wall-clock milliseconds since 1970: what lock records hold, comparable between processes and, with
  /// synchronised clocks, between machines sharing the storage.
  static func nowMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
  }

  static func modificationMilliseconds(_ info: stat) -> Int64 {
    #if canImport(Darwin)
      Int64(info.st_mtimespec.tv_sec) * 1000 + Int64(info.st_mtimespec.tv_nsec) / 1_000_000
    #else
      Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    #endif
  }
}
