import Foundation
import Testing

@testable import EdgeTLS

@Suite("local CA: edge trust (system store)")
struct LocalCATrustStoreTests {
  private let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

  @Test("as root: writes <name>.crt and runs the update command")
  func installsAsRoot() throws {
    let scratch = try ScratchDirectory()
    let marker = "\(scratch.path)/updated"
    let store = TrustStore(directory: "\(scratch.path)/ca-certificates", updateCommand: ["touch", marker], effectiveUserID: 0)
    #expect(!store.isInstalled(pem: pem, name: "edge Local Authority"))
    try store.installRoot(pem: pem, name: "edge Local Authority")
    let path = store.path(forRootNamed: "edge Local Authority")
    #expect(path == "\(scratch.path)/ca-certificates/edge-Local-Authority.crt")
    #expect(try String(contentsOfFile: path, encoding: .utf8) == pem)
    #expect(try mode(of: path) == 0o644)
    #expect(FileManager.default.fileExists(atPath: marker))
    #expect(store.isInstalled(pem: pem, name: "edge Local Authority"))
    #expect(!store.isInstalled(pem: pem + "\n", name: "edge Local Authority"))
  }

  @Test("not root: an error telling the user to run as root, and nothing written")
  func refusesWithoutRoot() throws {
    let scratch = try ScratchDirectory()
    let store = TrustStore(directory: "\(scratch.path)/ca-certificates", updateCommand: ["true"], effectiveUserID: 1000)
    do {
      try store.installRoot(pem: pem, name: "edge")
      Issue.record("installed without root")
    } catch {
      #expect(error.description.contains("needs root; run `sudo edge trust`"))
    }
    #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/ca-certificates"))
  }

  @Test("a failing update command is reported with its status")
  func reportsUpdateFailure() throws {
    let scratch = try ScratchDirectory()
    let failing = TrustStore(directory: scratch.path, updateCommand: ["false"], effectiveUserID: 0)
    #expect(throws: TrustStoreError.self) { try failing.installRoot(pem: pem, name: "edge") }
    do { try failing.installRoot(pem: pem, name: "edge") } catch {
      #expect(error.description.hasSuffix("false exited with status 1"))
    }
    let missing = TrustStore(directory: scratch.path, updateCommand: ["no-such-command-edge"], effectiveUserID: 0)
    do {
      try missing.installRoot(pem: pem, name: "edge")
      Issue.record("a missing command succeeded")
    } catch {
      #expect(error.description.contains("no-such-command-edge could not be started"), "\(error)")
    }
  }
}
