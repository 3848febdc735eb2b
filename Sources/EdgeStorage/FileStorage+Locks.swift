#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import EdgeCore

/// Locks as files: `<root>/locks/<name>.lock` holds a `LockRecord`.
///
/// **Taking a free lock.** The record is written in full to a temporary file in `locks/` and fsynced, then
/// `link(2)`ed to the lock's name. link never replaces: exactly one of several takers gets the name, the
/// others get EEXIST, and nobody ever sees a half-written lock file (certmagic writes the lock in place and
/// had to treat empty files as "maybe being written": caddyserver/certmagic#232).
///
/// **Replacing a lock: takeover, refresh, release.** These need "if the file is still X, replace or remove
/// it", which POSIX has no single call for. Renaming a stale file away and then checking what was moved is
/// not enough: between our read and our rename, another taker may already have replaced the stale file with
/// its fresh one, and we would move *that* away; putting it back cannot be atomic (a third taker can link in
/// meanwhile), so two holders would each believe they have the lock. certmagic accepts a similar window
/// (two takers deleting one stale file; its `.unlock` files, meant to close it, went stale themselves and
/// looped forever: caddyserver/caddy#4448). Here the three operations run one at a time under a guard,
/// and decide from what they read *inside* it:
///
/// - takeover: read the lock again; if it is still stale, `rename(2)` our fully written temporary file over
///   it. The name always holds either the stale lock or ours, so a concurrent link still gets EEXIST;
/// - refresh: read; if the token is still ours, rename a copy with a new `updated` over it, else `lockLost`;
/// - release: read; if the token is still ours, unlink; otherwise leave it.
///
/// Nothing else changes an existing lock file, so what the guarded read saw is still there when the rename
/// or unlink runs. The guard is `flock(2)` on `locks/.guard`, which the kernel releases when its holder
/// dies (so, unlike an `.unlock` file, it cannot go stale), plus a process-wide mutex because some network
/// file systems implement flock with per-process POSIX locks, which do not keep threads apart. The guarded
/// steps are a read of a small file and a rename: the temporary files are written and fsynced before the
/// guard is taken. A guard held longer than 5 s (a stopped process) fails the operation rather than hang.
///
/// A lock is stale when `now - updated > ttl_ms`, using the holder's TTL and the wall clock: nodes sharing
/// a directory need synchronised clocks. A file that does not parse as a record (damaged; never half-written)
/// is stale once its modification time is older than `unreadableLockAge`.
extension FileStorage {
  static let lockDirectoryName = "locks"

  public var lockDirectory: String { root + "/" + Self.lockDirectoryName }

  /// `locks/<name>.lock`, the name percent-encoded so that any string (`issue:*.example.com`) is one safe
  /// file name and two names never share a file.
  public func lockPath(_ name: String) throws(StorageError) -> String {
    guard !name.isEmpty else { throw .invalidKey(name, reason: "empty lock name") }
    var encoded = ""
    for byte in name.utf8 {
      let plain =
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || (byte == UInt8(ascii: ".") && !encoded.isEmpty)
      if plain {
        encoded.unicodeScalars.append(Unicode.Scalar(byte))
      } else {
        encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
      }
    }
    guard encoded.utf8.count <= StorageKey.maxSegmentBytes else {
      throw .invalidKey(name, reason: "lock name longer than \(StorageKey.maxSegmentBytes) bytes once encoded")
    }
    return lockDirectory + "/" + encoded + ".lock"
  }

  public func lock(_ name: String, owner: String, ttl: Duration) throws -> StorageLock? {
    let path = try lockPath(name)
    // Written when the lock looks free or stale, so polling a held lock only reads it.
    var candidate: (record: LockRecord, temporary: String)?
    // After a link the temporary name is a second name for our lock; after a rename it is gone already.
    defer { if let candidate { unlink(candidate.temporary) } }
    // A round ends with the lock ours, held by someone else, or gone again (released since we looked), which
    // is worth another look; a lock that changes hands this often is busy: report it held.
    for _ in 0..<8 {
      let state = try inspect(path)
      if case .held = state { return nil }
      if case .unreadable = state { return nil }
      if candidate == nil {
        try FileSystem.makeDirectories(lockDirectory)
        let now = FileSystem.nowMilliseconds()
        let record = LockRecord(
          owner: owner, token: FileSystem.randomHex(bytes: 16), created: now, updated: now,
          ttlMilliseconds: Int64(clamping: ttl.milliseconds))
        candidate = (record, try writeTemporary(record))
      }
      let (record, temporary) = candidate!
      if case .gone = state {
        if link(temporary, path) == 0 { return makeLock(name, record, path) }
        let code = errno
        // Over NFS a link can report failure after succeeding; the link count tells.
        if let info = try? FileSystem.status(temporary), info.st_nlink == 2 { return makeLock(name, record, path) }
        guard code == EEXIST else { throw StorageError.system("creating lock \(path)", errno: code) }
        continue  // someone else's link won: look at theirs
      }
      // Stale: replace it, deciding again under the guard from what is there now.
      let taken = try underGuard { () throws(StorageError) -> Bool? in
        switch try inspect(path) {
        case .gone: return nil
        case .held, .unreadable: return false
        case .stale:
          guard rename(temporary, path) == 0 else { throw .system("replacing stale lock \(path)") }
          return true
        }
      }
      switch taken {
      case true?: return makeLock(name, record, path)
      case false?: return nil
      case nil: continue
      }
    }
    return nil
  }

  /// What is at a lock's path now.
  enum LockState {
    case gone
    case held(LockRecord)
    case stale(LockRecord?)
    /// Does not parse and is younger than `unreadableLockAge`.
    case unreadable
  }

  func inspect(_ path: String) throws(StorageError) -> LockState {
    guard let file = try OpenFile.ifPresent(path, flags: O_RDONLY, doing: "opening lock") else { return .gone }
    let bytes = try file.readAll(sizeHint: 512)
    let now = FileSystem.nowMilliseconds()
    guard let record = LockRecord.decode(bytes) else {
      let age = now - FileSystem.modificationMilliseconds(try file.status())
      return age > Int64(clamping: unreadableLockAge.milliseconds) ? .stale(nil) : .unreadable
    }
    return record.isStale(now: now) ? .stale(record) : .held(record)
  }

  private func makeLock(_ name: String, _ record: LockRecord, _ path: String) -> StorageLock {
    StorageLock(
      name: name, owner: record.owner, ttl: .milliseconds(record.ttlMilliseconds), token: record.token,
      refresh: { try self.refreshLock(name, record, path) },
      release: { try self.releaseLock(record, path) })
  }

  private func refreshLock(_ name: String, _ record: LockRecord, _ path: String) throws(StorageError) {
    var fresh = record
    fresh.updated = FileSystem.nowMilliseconds()
    let temporary = try writeTemporary(fresh)
    defer { unlink(temporary) }
    try underGuard { () throws(StorageError) in
      guard try inspect(path).token == record.token else { throw .lockLost(name: name) }
      guard rename(temporary, path) == 0 else { throw .system("refreshing lock \(path)") }
    }
  }

  private func releaseLock(_ record: LockRecord, _ path: String) throws(StorageError) {
    try underGuard { () throws(StorageError) in
      guard try inspect(path).token == record.token else { return }
      guard unlink(path) == 0 || errno == ENOENT else { throw .system("removing lock \(path)") }
    }
  }

  /// A lock record in a new temporary file in `locks/`, fsynced (some network file systems otherwise show
  /// other clients an empty file: caddyserver/caddy#3954).
  private func writeTemporary(_ record: LockRecord) throws(StorageError) -> String {
    let temporary = lockDirectory + "/." + FileSystem.randomHex(bytes: 8) + ".tmp"
    do {
      let file = try OpenFile(temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600, doing: "creating")
      try file.setMode(0o644)
      try file.writeAll(record.encoded())
      try file.sync()
    } catch {
      unlink(temporary)
      throw error
    }
    return temporary
  }

  /// Runs `body` while holding this root's lock guard (see above).
  func underGuard<Result>(_ body: () throws(StorageError) -> Result) throws(StorageError) -> Result {
    try Self.processGuard.withLock { (_: inout Void) throws(StorageError) -> Result in
      let file = try OpenFile(lockDirectory + "/.guard", flags: O_RDWR | O_CREAT, mode: 0o600, doing: "opening")
      let deadline = FileSystem.nowMilliseconds() + 5000
      while flock(file.descriptor, LOCK_EX | LOCK_NB) != 0 {
        guard errno == EWOULDBLOCK || errno == EINTR else { throw .system("locking \(file.path)") }
        guard FileSystem.nowMilliseconds() < deadline else {
          throw .io(
            operation: "locking \(file.path)", errno: EWOULDBLOCK,
            detail: "held for more than 5 s by another process (stopped?)")
        }
        usleep(1000)
      }
      // Unlocking explicitly also keeps `file` alive until `body` is done: its deinit closes the descriptor,
      // which would drop the flock, and Swift may end an object's life at its last use.
      defer { flock(file.descriptor, LOCK_UN) }
      return try body()
    }
  }

  private static let processGuard = Locked(())
}

extension FileStorage.LockState {
  /// The token of a readable record, stale or not.
  fileprivate var token: String? {
    switch self {
    case .held(let record): record.token
    case .stale(let record): record?.token
    case .gone, .unreadable: nil
    }
  }
}
