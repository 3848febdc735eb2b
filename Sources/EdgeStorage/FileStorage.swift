#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation

/// Storage in a directory: a key is a path under `root` (`certificates/a.example.com.crt`), a value the
/// file's bytes, and a lock a file under `root/locks` (see `FileStorage+Locks.swift`). Several edge
/// processes, on one machine or sharing the directory, can use the same root at once.
///
/// Writes are atomic: the value goes to a new, randomly named dot-file in the target's directory (created
/// exclusively), is written in full and fsynced, then renamed over the target, and the directory is fsynced.
/// A reader sees the old file or the new one, never part of either, and a crash leaves one or the other
/// (at worst plus a stray dot-file). Secret values are created 0600 and never have wider permissions at any
/// moment; other values end up 0644. Directories the storage creates are 0700, so secrets are also shielded
/// by the directory even if a file's mode is changed by hand.
///
/// `locks/` belongs to the locks: keys under it cannot be stored or deleted.
public final class FileStorage: CertificateStorage {
  public let root: String
  /// How old (by modification time) an unreadable lock file must be before it counts as stale. Lock files
  /// are never seen half-written, so one that does not parse was damaged or made by something else.
  public let unreadableLockAge: Duration

  /// `root` is made absolute (relative to the current directory) and created, 0700, on the first write.
  public init(root: String, unreadableLockAge: Duration = .seconds(120)) {
    var root = root
    if !root.hasPrefix("/") { root = FileManager.default.currentDirectoryPath + "/" + root }
    while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
    self.root = root
    self.unreadableLockAge = unreadableLockAge
  }

  /// The file or directory for `key` (validated by `StorageKey`).
  public func path(for key: String) throws(StorageError) -> String {
    root + "/" + (try StorageKey.segments(key)).joined(separator: "/")
  }

  public func load(_ key: String) throws -> [UInt8] {
    let path = try path(for: key)
    guard let file = try OpenFile.ifPresent(path, flags: O_RDONLY, doing: "opening") else {
      throw StorageError.notFound(key: key)
    }
    let info = try file.status()
    guard FileSystem.isRegularFile(info) else { throw StorageError.notFound(key: key) }
    return try file.readAll(sizeHint: Int(info.st_size))
  }

  public func store(_ key: String, _ value: [UInt8], secret: Bool) throws {
    let path = try writablePath(for: key)
    try FileSystem.makeDirectories(FileSystem.parentDirectory(of: path))
    let temporary = FileSystem.temporaryPath(beside: path)
    do {
      // Created 0600 whatever the final mode, so a secret is never looser; umask only narrows it further.
      let file = try OpenFile(temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600, doing: "creating")
      try file.setMode(secret ? 0o600 : 0o644)
      try file.writeAll(value)
      try file.sync()
      guard rename(temporary, path) == 0 else { throw StorageError.system("renaming \(temporary) to \(path)") }
    } catch {
      unlink(temporary)
      throw error
    }
    try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
  }

  public func delete(_ key: String) throws {
    let path = try writablePath(for: key)
    guard let info = try FileSystem.statusIfPresent(path, followLinks: false) else { return }
    if FileSystem.isDirectory(info) {
      do {
        try FileManager.default.removeItem(atPath: path)
      } catch {
        throw StorageError.io(operation: "deleting \(path)", errno: nil, detail: error.localizedDescription)
      }
    } else if unlink(path) != 0 && errno != ENOENT {
      throw StorageError.system("deleting \(path)")
    }
    try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
  }

  public func exists(_ key: String) -> Bool {
    guard let path = try? path(for: key) else { return false }
    return (try? FileSystem.status(path)) != nil
  }

  public func stat(_ key: String) throws -> StorageInfo {
    let path = try path(for: key)
    guard let info = try FileSystem.statusIfPresent(path) else { throw StorageError.notFound(key: key) }
    let isFile = FileSystem.isRegularFile(info)
    let modified = Date(timeIntervalSince1970: Double(FileSystem.modificationMilliseconds(info)) / 1000)
    return StorageInfo(key: key, modified: modified, size: isFile ? Int(info.st_size) : 0, isTerminal: isFile)
  }

  public func list(_ prefix: String, recursive: Bool) throws -> [String] {
    let directory = prefix.isEmpty ? root : try path(for: prefix)
    var keys: [String] = []
    try collect(directory, prefix: prefix, recursive: recursive, depth: 0, into: &keys)
    return keys.sorted()
  }

  /// Entries of `directory` as keys under `prefix`. Dot-files (temporary files) are skipped; symbolic links
  /// are followed, and a link loop ends at a depth of 32 with an error.
  private func collect(_ directory: String, prefix: String, recursive: Bool, depth: Int, into keys: inout [String])
    throws(StorageError)
  {
    guard depth < 32 else {
      throw .io(operation: "listing \(directory)", errno: ELOOP, detail: "directories nested too deep (a symbolic link loop?)")
    }
    guard let handle = opendir(directory) else {
      if errno == ENOENT || errno == ENOTDIR { return }
      throw .system("listing \(directory)")
    }
    defer { closedir(handle) }
    while true {
      errno = 0
      guard let entry = readdir(handle) else {
        if errno != 0 { throw .system("listing \(directory)") }
        return
      }
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name.hasPrefix(".") { continue }
      let key = StorageKey.join(prefix, name)
      let path = directory + "/" + name
      // Gone since readdir, or a dangling link: not a key.
      guard let info = try? FileSystem.status(path) else { continue }
      let isDirectory = FileSystem.isDirectory(info)
      if !recursive {
        keys.append(key)
      } else if isDirectory {
        try collect(path, prefix: key, recursive: true, depth: depth + 1, into: &keys)
      } else {
        keys.append(key)
      }
    }
  }

  /// The path for a key that is about to be written or removed: valid, and not under `locks/`.
  private func writablePath(for key: String) throws(StorageError) -> String {
    let path = try path(for: key)
    if key == Self.lockDirectoryName || key.hasPrefix(Self.lockDirectoryName + "/") {
      throw .invalidKey(key, reason: "'\(Self.lockDirectoryName)/' holds the storage's locks")
    }
    return path
  }
}
