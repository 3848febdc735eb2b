import Foundation
import Testing

@testable import EdgeTLS

@Suite("local CA: damaged files are errors, never replaced")
struct LocalCACorruptionTests {
  private let names = ["root.crt", "root.key", "intermediate.crt", "intermediate.key"]

  /// A CA directory whose `name` was then changed by `damage`; returns the files as they were after.
  private func damaged(_ name: String, _ damage: (String) throws -> String?) throws -> (ScratchDirectory, [String: String]) {
    let scratch = try ScratchDirectory()
    _ = try LocalCA(directory: scratch.caDirectory)
    if let text = try damage(try scratch.read(name)) {
      try scratch.write(text, to: name)
    } else {
      try FileManager.default.removeItem(atPath: scratch.file(name))
    }
    var files: [String: String] = [:]
    for file in names { files[file] = try? scratch.read(file) }
    return (scratch, files)
  }

  private func expectUnchanged(_ scratch: ScratchDirectory, _ before: [String: String]) throws {
    for file in names { #expect((try? scratch.read(file)) == before[file], "\(file) changed") }
    let entries = try FileManager.default.contentsOfDirectory(atPath: scratch.caDirectory)
    #expect(entries.filter { $0.contains(".tmp-") }.isEmpty)
  }

  private func loadError(_ scratch: ScratchDirectory) -> LocalCAError? {
    do {
      _ = try LocalCA(directory: scratch.caDirectory)
      return nil
    } catch { return error }
  }

  @Test("a truncated root.key is an error naming it; nothing is overwritten")
  func truncatedRootKey() throws {
    let (scratch, before) = try damaged("root.key") { String($0.prefix($0.count / 2)) }
    let error = try #require(loadError(scratch))
    #expect(error.path == scratch.file("root.key"))
    #expect(error.description.hasPrefix("local CA: loading root: reading \(scratch.file("root.key")): not an unencrypted PEM private key"), "\(error)")
    try expectUnchanged(scratch, before)
  }

  @Test("a garbled root.crt is an error naming it")
  func garbledRootCertificate() throws {
    let (scratch, before) = try damaged("root.crt") { $0.replacingOccurrences(of: "A", with: "B") }
    let error = try #require(loadError(scratch))
    #expect(error.path == scratch.file("root.crt"), "\(error)")
    try expectUnchanged(scratch, before)
  }

  @Test("a root.key that is not root.crt's key is an error naming it")
  func mismatchedRootKey() throws {
    let (scratch, before) = try damaged("root.key") { _ in try PrivateKey.generateP256().pem() }
    let error = try #require(loadError(scratch))
    #expect(error.description == "local CA: loading root: checking \(scratch.file("root.key")): not the key of \(scratch.file("root.crt"))")
    try expectUnchanged(scratch, before)
  }

  @Test("a missing root.key next to root.crt is an error naming it; no new root is made")
  func missingRootKey() throws {
    let (scratch, before) = try damaged("root.key") { _ in nil }
    let error = try #require(loadError(scratch))
    #expect(error.path == scratch.file("root.key"))
    #expect(error.description.contains("missing"))
    try expectUnchanged(scratch, before)
  }

  @Test("a corrupt intermediate.key is an error naming it")
  func corruptIntermediateKey() throws {
    let (scratch, before) = try damaged("intermediate.key") { _ in "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n" }
    let error = try #require(loadError(scratch))
    #expect(error.description.hasPrefix("local CA: loading intermediate: reading \(scratch.file("intermediate.key"))"), "\(error)")
    try expectUnchanged(scratch, before)
  }

  @Test("an intermediate signed by another root is an error naming it")
  func foreignIntermediate() throws {
    let other = try ScratchDirectory()
    _ = try LocalCA(directory: other.caDirectory)
    let scratch = try ScratchDirectory()
    _ = try LocalCA(directory: scratch.caDirectory)
    try scratch.write(try other.read("intermediate.crt"), to: "intermediate.crt")
    try scratch.write(try other.read("intermediate.key"), to: "intermediate.key")
    let error = try #require(loadError(scratch))
    #expect(error.path == scratch.file("intermediate.crt"))
    #expect(error.description.contains("not signed by \(scratch.file("root.crt"))"))
  }

  @Test("a storage path that cannot be created says which part failed")
  func unusableDirectory() throws {
    let scratch = try ScratchDirectory()
    try "".write(toFile: "\(scratch.path)/file", atomically: false, encoding: .utf8)
    do {
      _ = try LocalCA(directory: "\(scratch.path)/file/pki")
      Issue.record("created a CA under a regular file")
    } catch {
      #expect(error.description == "local CA: preparing storage: creating \(scratch.path)/file/pki: not a directory")
    }
  }
}
