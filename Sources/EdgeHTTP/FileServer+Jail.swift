internal import CEdgeShims
import EdgeCore

#if canImport(Glibc)
  import Glibc
#endif

/// The `hide` list, split once per root into names (matched against every path component) and path
/// prefixes (matched on component boundaries).
struct HideRules {
  var names: Set<String> = []
  var prefixes: [String] = []

  var isEmpty: Bool { names.isEmpty && prefixes.isEmpty }

  init(_ entries: [String], root: String) {
    for entry in entries {
      var entry = Substring(entry)
      while entry.count > 1, entry.hasSuffix("/") { entry.removeLast() }
      if entry.isEmpty { continue }
      if !entry.contains("/") {
        names.insert(String(entry))
      } else if entry.hasPrefix("/") {
        prefixes.append(String(entry))
      } else {
        prefixes.append(FileSystem.join(root, String(entry)))
      }
    }
  }

  /// Whether `full` (a path in the file system) or any of its `components` below the root is hidden.
  func hides(full: String, components: some Sequence<Substring>) -> Bool {
    if !names.isEmpty, components.contains(where: { names.contains(String($0)) }) { return true }
    return prefixes.contains { prefix in
      prefix == "/" || full == prefix || full.hasPrefix(prefix + "/")
    }
  }
}

/// The root a request may not leave: the lexical and the symlink-resolved forms, and the hide rules.
///
/// A file is found one of two ways (see `FileServer.respond`). *Resolving*: the lexical path is stat'ed,
/// then resolved with `realpath(3)` (one `readlink` per component) and checked to lie inside the resolved
/// root. *Direct*: the path under the resolved root is used as it is, and every lookup refuses symlinks
/// (`lstat`, and `openat2` with `RESOLVE_NO_SYMLINKS` for the open that decides): a path with no symlink,
/// `.` or `..` component is its own real path, so the checks `confine` makes apply to it without
/// `realpath`. A symlink anywhere makes the direct way give up (`crossesSymlink`) and the request is
/// answered the resolving way.
struct Jail {
  var root: String
  var realRoot: String
  var hide: HideRules

  /// `relative` (a cleaned request path, see `RequestPath`) under the lexical root.
  func lexical(_ relative: String) -> String { relative.isEmpty ? root : FileSystem.join(root, relative) }

  /// Where `relative` is looked up: under the resolved root (direct) or the lexical one.
  func path(_ relative: String, direct: Bool) -> String {
    guard direct else { return lexical(relative) }
    return relative.isEmpty ? realRoot : FileSystem.join(realRoot, relative)
  }

  /// Whether `relative`, under the lexical root, is hidden.
  func hides(relative: String) -> Bool {
    !hide.isEmpty && hides(lexical: lexical(relative))
  }

  /// Whether the lexical path `path` (under `root`) is hidden.
  func hides(lexical path: String) -> Bool {
    hide.hides(full: path, components: Self.components(of: path, under: root))
  }

  /// The path to open for `relative`, found at `located` (its `path`), with `confine`'s checks. Direct:
  /// `located` itself, valid only when it is opened with no symlink allowed (`FileSystem.openForReading`,
  /// `checkReadable`).
  func confine(_ relative: String, at located: String, direct: Bool) throws(FileServerError) -> String {
    guard direct else { return try confine(located) }
    guard !relative.isEmpty, !Self.namesDotfile(relative),
      hide.isEmpty || !hide.hides(full: located, components: relative.split(separator: "/"))
    else { throw .notFound }
    return located
  }

  /// Whether a component of `relative` starts with a dot, as `hasPrefix(".")` sees it; the bytes first.
  static func namesDotfile(_ relative: String) -> Bool {
    var previous = UInt8(ascii: "/")
    for byte in relative.utf8 {
      if previous == UInt8(ascii: "/") && byte == UInt8(ascii: ".") {
        return relative.split(separator: "/").contains { $0.hasPrefix(".") }
      }
      previous = byte
    }
    return false
  }

  /// The symlink-resolved form of `path`, checked to lie inside the resolved root, to name no dotfile
  /// below it and not to be hidden: a symlink cannot reach outside the root or into `.git`.
  func confine(_ path: String) throws(FileServerError) -> String {
    guard let real = FileSystem.realPath(path) else { throw .notFound }
    guard realRoot == "/" || real.hasPrefix(realRoot + "/") else { throw .notFound }
    let below = Self.components(of: real, under: realRoot)
    guard !below.contains(where: { $0.hasPrefix(".") }), !hide.hides(full: real, components: below) else {
      throw .notFound
    }
    return real
  }

  /// The components of `path` after its `base` prefix.
  static func components(of path: String, under base: String) -> [Substring] {
    let rest = path.hasPrefix(base) ? path.dropFirst(base.count) : Substring(path)
    return rest.split(separator: "/")
  }
}

// MARK: - Visibility

extension FileServer {
  /// What the file server hides under one root, for code beside it (directory listings) that must hide
  /// exactly the same: it is the server's own jail, not a second set of rules. A class: the server takes
  /// it from a cache for every request, and one reference is cheaper to pass than its strings.
  final class Visibility: Sendable {
    /// The root as the server uses it: trailing slashes removed, empty meaning `.`.
    let root: String
    let jail: Jail

    /// nil when the root cannot be resolved (the server then answers 404 to everything).
    init?(root: String, hide: [String]) {
      let root = FileSystem.trimmedRoot(root)
      guard let realRoot = FileSystem.realPath(root) else { return nil }
      self.root = root
      jail = Jail(root: root, realRoot: realRoot, hide: HideRules(hide, root: root))
    }

    /// Whether the entry `name` of `directory` (a lexical path under the root) is hidden: a dotfile, whose
    /// request path the server refuses, or matched by `hide`.
    func isHidden(name: String, in directory: String) -> Bool {
      name.hasPrefix(".") || jail.hides(lexical: FileSystem.join(directory, name))
    }

    /// Whether the lexical path `path` under the root is hidden by `hide`.
    func isHidden(lexical path: String) -> Bool { jail.hides(lexical: path) }

    /// The symlink-resolved form of `path` when the server would follow it there: strictly inside the
    /// root, through no dotfile, not hidden. nil otherwise.
    func confined(_ path: String) -> String? { try? jail.confine(path) }

    /// Whether `path` resolves to the root itself, which `confined` does not accept.
    func isRoot(_ path: String) -> Bool { FileSystem.realPath(path) == jail.realRoot }

    /// The visibility of a root as resolved at most a second ago: resolving the root (`realpath`, one
    /// `readlink` per component) for every request was 12% of a small file's cost. A root that is a
    /// symlink switched to a new release is followed within a second.
    static func cached(root: String, hide: [String]) -> Visibility? {
      let now = monotonicNanoseconds()
      let key = VisibilityKey(root: root, hide: hide)
      if let entry = cache.withLock({ $0[key] }), now < entry.expires { return entry.visibility }
      let fresh = Visibility(root: root, hide: hide)
      cache.withLock { cache in
        if cache.count > 1000 { cache.removeAll() }
        cache[key] = (fresh, now + 1_000_000_000)
      }
      return fresh
    }

    private struct VisibilityKey: Hashable {
      let root: String
      let hide: [String]
    }
    private static let cache = Locked<[VisibilityKey: (visibility: Visibility?, expires: UInt64)]>([:])
  }
}

// MARK: - File system

/// What the server needs to know about a file, from `stat`, `lstat` or `fstat`.
struct FileInfo: Equatable {
  enum Kind { case regular, directory, symlink, other }
  var kind: Kind
  var device: UInt64
  var inode: UInt64
  var size: Int
  /// Modification time, whole seconds since the epoch.
  var modified: Int

  init(_ st: stat) {
    switch st.st_mode & S_IFMT {
    case S_IFREG: kind = .regular
    case S_IFDIR: kind = .directory
    case S_IFLNK: kind = .symlink
    default: kind = .other
    }
    device = UInt64(st.st_dev)
    inode = UInt64(st.st_ino)
    size = Int(st.st_size)
    #if canImport(Darwin)
      modified = Int(st.st_mtimespec.tv_sec)
    #else
      modified = Int(st.st_mtim.tv_sec)
    #endif
  }
}

/// The few system calls the server makes, with errno mapped to statuses. `direct` lookups refuse
/// symlinks (see `Jail`) and throw `crossesSymlink` where the resolving way must decide.
enum FileSystem {
  /// `root` without trailing slashes (`/` stays `/`; empty means the working directory).
  static func trimmedRoot(_ root: String) -> String {
    var trimmed = Substring(root)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    return trimmed.isEmpty ? "." : String(trimmed)
  }

  /// `base/name`, without doubling the slash when `base` is `/`. Made in one allocation: `base + "/" +
  /// name` cost a thousand instructions, and every request joins a path.
  static func join(_ base: String, _ name: String) -> String {
    let slash = base.utf8.last != UInt8(ascii: "/")
    return String(unsafeUninitializedCapacity: base.utf8.count + (slash ? 1 : 0) + name.utf8.count) { out in
      var end = out.initialize(fromContentsOf: base.utf8)
      if slash {
        out[end] = UInt8(ascii: "/")
        end += 1
      }
      return end + UnsafeMutableBufferPointer(rebasing: out[end...]).initialize(fromContentsOf: name.utf8)
    }
  }

  /// Whether the kernel offers `openat2` (Linux 5.6+, and not refused by a seccomp filter); without it
  /// every request takes the resolving way.
  static let directLookups: Bool = {
    let fd = edge_open_no_symlinks("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return false }
    close(fd)
    return true
  }()

  /// `stat(2)` (following symlinks), or direct `lstat(2)`: permission denied → 403, anything else → 404.
  static func info(_ path: String, direct: Bool) throws(FileServerError) -> FileInfo {
    var st = stat()
    guard (direct ? lstat(path, &st) : stat(path, &st)) == 0 else { throw errno == EACCES ? .forbidden : .notFound }
    let info = FileInfo(st)
    if info.kind == .symlink { throw .crossesSymlink }
    return info
  }

  /// `realpath(3)`, or nil when the path cannot be resolved.
  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// Whether this process may read `path`, without reading it. Direct: by opening it with no symlink
  /// allowed (which also proves the path is its own real path), then closing it.
  static func checkReadable(_ path: String, direct: Bool) throws(FileServerError) {
    guard direct else {
      guard faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0 else { throw errno == EACCES ? .forbidden : .notFound }
      return
    }
    close(try open(path, direct: true))
  }

  /// Opens `path` (already symlink-resolved, so the last component must not be a link now; direct: no
  /// component may be) and checks it is still the regular file `expected` describes; the descriptor is
  /// closed on every failure.
  static func openForReading(_ path: String, expecting expected: FileInfo, direct: Bool) throws(FileServerError)
    -> (fd: Int32, info: FileInfo)
  {
    let fd = try open(path, direct: direct)
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      close(fd)
      throw .notFound
    }
    let info = FileInfo(st)
    guard info.kind == .regular, info.device == expected.device, info.inode == expected.inode else {
      close(fd)
      throw .notFound
    }
    return (fd, info)
  }

  /// `open(2)` read-only with `O_NOFOLLOW`, or direct `openat2` with `RESOLVE_NO_SYMLINKS` as well.
  /// `O_NONBLOCK`: a file swapped for a FIFO since it was stat'ed cannot stall the loop.
  private static func open(_ path: String, direct: Bool) throws(FileServerError) -> Int32 {
    let flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
    let fd = direct ? edge_open_no_symlinks(path, flags) : Glibc.open(path, flags)
    guard fd < 0 else { return fd }
    switch errno {
    case EACCES: throw .forbidden
    case ENOENT, ENOTDIR: throw .notFound
    // ELOOP: a component is a symlink. Anything else unexpected: the resolving way decides.
    default: throw direct ? .crossesSymlink : .notFound
    }
  }
}
