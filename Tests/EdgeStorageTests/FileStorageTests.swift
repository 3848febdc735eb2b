import Foundation
import Testing
@testable import EdgeStorage

@Suite("FileStorage keys and values")
struct FileStorageTests {
  @Test("a stored value loads back byte for byte, and storing again replaces it")
  func roundTrip() throws {
    let root = TemporaryRoot()
    let storage = root.storage
    let binary = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    try storage.store("certificates/a.example.com.crt", binary, secret: false)
    #expect(try storage.load("certificates/a.example.com.crt") == binary)
    try storage.store("certificates/a.example.com.crt", [1, 2, 3], secret: false)
    #expect(try storage.load("certificates/a.example.com.crt") == [1, 2, 3])
    try storage.store("empty", [], secret: false)
    #expect(try storage.load("empty") == [])
  }

  @Test("a missing key is notFound, not an I/O error, for load and stat; deleting it is no error")
  func missingKeys() throws {
    let storage = TemporaryRoot().storage
    #expect(throws: StorageError.notFound(key: "certificates/none.crt")) { try storage.load("certificates/none.crt") }
    #expect(throws: StorageError.notFound(key: "none")) { try storage.stat("none") }
    #expect(!storage.exists("certificates/none.crt"))
    try storage.delete("certificates/none.crt")
    try storage.store("a/b", [1], secret: false)
    // A directory holds no value, and a path through a value finds nothing.
    #expect(throws: StorageError.notFound(key: "a")) { try storage.load("a") }
    #expect(throws: StorageError.notFound(key: "a/b/c")) { try storage.load("a/b/c") }
  }

  @Test("exists, stat and delete see values and directories")
  func statAndDelete() throws {
    let storage = TemporaryRoot().storage
    let before = Date(timeIntervalSinceNow: -2)
    try storage.store("certificates/a.crt", Array(repeating: 65, count: 42), secret: false)
    try storage.store("certificates/sub/b.crt", [1], secret: false)
    let info = try storage.stat("certificates/a.crt")
    #expect(info.key == "certificates/a.crt" && info.size == 42 && info.isTerminal)
    #expect(info.modified > before && info.modified < Date(timeIntervalSinceNow: 2))
    let directory = try storage.stat("certificates")
    #expect(!directory.isTerminal && directory.size == 0)
    #expect(storage.exists("certificates") && storage.exists("certificates/a.crt"))
    try storage.delete("certificates/a.crt")
    #expect(!storage.exists("certificates/a.crt"))
    try storage.delete("certificates")
    #expect(!storage.exists("certificates/sub/b.crt") && !storage.exists("certificates"))
  }

  @Test("secrets are 0600, other values 0644, created directories 0700; rewriting changes the mode")
  func permissions() throws {
    let root = TemporaryRoot()
    let storage = root.storage
    try storage.store("certificates/a.key", [1], secret: true)
    try storage.store("certificates/a.crt", [1], secret: false)
    #expect(try root.mode("certificates/a.key") == 0o600)
    #expect(try root.mode("certificates/a.crt") == 0o644)
    #expect(try root.mode("certificates") == 0o700)
    #expect(try root.mode(".") == 0o700)
    try storage.store("certificates/a.crt", [2], secret: true)
    try storage.store("certificates/a.key", [2], secret: false)
    #expect(try root.mode("certificates/a.crt") == 0o600)
    #expect(try root.mode("certificates/a.key") == 0o644)
    // No temporary file is left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: storage.root + "/certificates").sorted() == ["a.crt", "a.key"])
  }

  @Test(
    "keys that could leave the root or hide as temporary files are refused",
    arguments: ["", "/etc/passwd", "a//b", "a/", "..", "../x", "a/../../b", ".", "./a", ".hidden", "a/.tmp", "a\u{0}b",
      String(repeating: "x", count: 201)])
  func invalidKeys(_ key: String) throws {
    let storage = TemporaryRoot().storage
    func isInvalidKey(_ error: any Error) -> Bool {
      if case StorageError.invalidKey = error { return true }
      return false
    }
    #expect(performing: { try storage.store(key, [1], secret: false) }, throws: isInvalidKey)
    #expect(performing: { try storage.load(key) }, throws: isInvalidKey)
    #expect(performing: { try storage.delete(key) }, throws: isInvalidKey)
    #expect(performing: { try storage.stat(key) }, throws: isInvalidKey)
    if !key.isEmpty { #expect(performing: { try storage.list(key, recursive: true) }, throws: isInvalidKey) }
    #expect(!storage.exists(key))
    #expect(!FileManager.default.fileExists(atPath: storage.root))
  }

  @Test("locks/ belongs to the locks: its keys cannot be stored or deleted")
  func lockDirectoryIsReserved() throws {
    let storage = TemporaryRoot().storage
    #expect(throws: StorageError.self) { try storage.store("locks/a.lock", [1], secret: false) }
    #expect(throws: StorageError.self) { try storage.delete("locks") }
  }

  @Test("list gives the next level (values and directories) or every value below, sorted, without temporary files")
  func list() throws {
    let storage = TemporaryRoot().storage
    for key in ["certificates/b.crt", "certificates/a.key", "certificates/a.crt", "certificates/sub/c.crt",
      "acme/ca/accounts/default.key"]
    {
      try storage.store(key, [1], secret: false)
    }
    _ = FileManager.default.createFile(atPath: storage.root + "/certificates/.abc.tmp", contents: Data([1]))
    #expect(try storage.list("", recursive: false) == ["acme", "certificates"])
    #expect(try storage.list("certificates", recursive: false) == [
      "certificates/a.crt", "certificates/a.key", "certificates/b.crt", "certificates/sub",
    ])
    #expect(try storage.list("certificates", recursive: true) == [
      "certificates/a.crt", "certificates/a.key", "certificates/b.crt", "certificates/sub/c.crt",
    ])
    #expect(try storage.list("", recursive: true).count == 5)
    #expect(try storage.list("nothing/here", recursive: true) == [])
    #expect(try storage.list("certificates/a.crt", recursive: false) == [])
  }
}
