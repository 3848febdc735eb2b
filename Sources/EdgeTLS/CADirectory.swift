#if canImport(Glibc)
  import Glibc
#endif

/// The CA's storage directory: created (with parents) mode 0700, and an exclusive `flock` on its
/// `.lock` file so two edge processes sharing it never create or renew at the same time.
struct CADirectory {
  let path: String

  /// Creates `path` and missing parents with mode 0700, and takes group/other access away from `path`
  /// if it already existed with it (it holds private keys).
  static func prepare(_ path: String) throws(CAFileError) -> CADirectory {
    var prefix = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
      prefix += "/" + component
      if mkdir(prefix, 0o700) != 0, errno != EEXIST { throw CAFileError("creating", prefix, errno: errno) }
    }
    var info = stat()
    if stat(path, &info) != 0 { throw CAFileError("creating", path, errno: errno) }
    if info.st_mode & S_IFMT != S_IFDIR { throw CAFileError("creating", path, reason: "not a directory") }
    if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 { throw CAFileError("creating", path, errno: errno) }
    return CADirectory(path: path)
  }

  func file(_ name: String) -> String { "\(path)/\(name)" }

  /// Runs `body` holding an exclusive lock on `<dir>/.lock` (blocks while another process holds it).
  func locked<T>(_ body: () throws(LocalCAError) -> T) throws(LocalCAError) -> T {
    let lockPath = file(".lock")
    let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    if fd < 0 { throw LocalCAError("locking", CAFileError("locking", lockPath, errno: errno)) }
    defer { close(fd) }  // closing releases the lock
    while flock(fd, LOCK_EX) != 0 {
      if errno != EINTR { throw LocalCAError("locking", CAFileError("locking", lockPath, errno: errno)) }
    }
    return try body()
  }
}
