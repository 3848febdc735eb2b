import EdgeConfig
import EdgeServer
import EdgeTLS
import Foundation
import Logging
import Synchronization
import Testing

@Suite("node certificates: sources per site, storage changes, local-CA renewal")
final class NodeCertificatesTests {
  let directory: String

  init() throws {
    directory = NSTemporaryDirectory() + "edge-node-certs-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: directory) }

  func certificates(_ caddyfile: String) throws -> NodeCertificates {
    let text = "{\n\tstorage file_system \(directory)/storage\n}\n" + caddyfile
    let config = try CaddyfileAdapter.adapt(text: text, filename: "Caddyfile", environment: [:])
    return try NodeCertificates(config: config, logger: Logger(label: "test"))
  }

  /// Asks the source and waits for its answer (it answers on a background queue).
  func lookUp(_ node: NodeCertificates, _ name: String) -> CertifiedKey? {
    let answer = Mutex<CertifiedKey??>(nil)
    node.certificate(for: name) { key in answer.withLock { $0 = .some(key) } }
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
      if let value = answer.withLock({ $0 }) { return value }
      usleep(2000)
    }
    Issue.record("no answer for \(name) within 10 s")
    return nil
  }

  /// A certificate for `name` from a throwaway CA, written where storage certificates live.
  func store(_ name: String, ca: LocalCA) throws -> String {
    let (chain, key, _) = try ca.issue(for: [name])
    let base = directory + "/storage/certificates/" + name
    try FileManager.default.createDirectory(atPath: directory + "/storage/certificates", withIntermediateDirectories: true)
    try key.write(toFile: base + ".key", atomically: true, encoding: .utf8)
    try chain.write(toFile: base + ".crt", atomically: true, encoding: .utf8)
    return chain
  }

  @Test("the local CA serves localhost and 'tls internal'; unconfigured names get nothing")
  func localCA() throws {
    let node = try certificates("localhost {\n\trespond x\n}\na.test {\n\ttls internal\n\trespond y\n}\n")
    #expect(node.localCA != nil)
    #expect(lookUp(node, "localhost")?.names == ["localhost"])
    #expect(lookUp(node, "a.test")?.names == ["a.test"])
    #expect(lookUp(node, "other.test") == nil)
    #expect(FileManager.default.fileExists(atPath: NodeCertificates.localCADirectory(storage: directory + "/storage") + "/root.key"))
  }

  @Test("a wildcard site covers one label, and its certificate is issued for the wildcard")
  func wildcard() throws {
    let node = try certificates("*.w.test {\n\ttls internal\n\trespond x\n}\n")
    #expect(lookUp(node, "a.w.test")?.names == ["*.w.test"])
    #expect(lookUp(node, "a.b.w.test") == nil)
  }

  @Test("a storage certificate is found once written, and a replacement is picked up by the upkeep")
  func storage() throws {
    let node = try certificates("pub.test {\n\trespond x\n}\n")
    #expect(node.localCA == nil, "no site needs the local CA")
    #expect(lookUp(node, "pub.test") == nil)
    let other = try LocalCA(directory: directory + "/other-ca")
    _ = try store("pub.test", ca: other)
    let first = try #require(lookUp(node, "pub.test"))
    node.cache.insert(first)
    usleep(20_000)  // a later modification time
    _ = try store("pub.test", ca: other)
    node.reloadChangedStoredCertificates()
    let served = try #require(node.cache.lookup(serverName: "pub.test"))
    #expect(served !== first)
    #expect(served.notAfter >= first.notAfter)
  }

  @Test("a name missing from storage is not looked up again until something is written there")
  func missingIsRemembered() throws {
    let lookups = LogCounter()
    let counted = try NodeCertificates(
      config: CaddyfileAdapter.adapt(
        text: "{\n\tstorage file_system \(directory)/storage\n}\npub.test {\n\trespond x\n}\n", filename: "C", environment: [:]),
      logger: Logger(label: "count") { _ in lookups })
    #expect(lookUp(counted, "pub.test") == nil)
    #expect(lookUp(counted, "pub.test") == nil)
    #expect(lookups.count("certificate lookup") == 1)
    _ = try store("pub.test", ca: try LocalCA(directory: directory + "/ca3"))
    #expect(lookUp(counted, "pub.test")?.names == ["pub.test"])
    #expect(lookups.count("certificate lookup") == 2)
  }

  @Test("local-CA leaves near the end of their life are re-issued into the cache")
  func renewal() throws {
    let node = try certificates("localhost {\n\trespond x\n}\n")
    let first = try #require(lookUp(node, "localhost"))
    node.cache.insert(first)
    node.renewDueLeaves(now: Int(Date().timeIntervalSince1970))
    #expect(node.cache.lookup(serverName: "localhost") === first, "a fresh leaf is not renewed")
    node.renewDueLeaves(now: first.notAfter - 3600)
    let renewed = try #require(node.cache.lookup(serverName: "localhost"))
    #expect(renewed !== first)
  }

  @Test("certificate files are loaded at start; a bad pair is a configuration error at the site")
  func files() throws {
    let ca = try LocalCA(directory: directory + "/files-ca")
    let (chain, key, _) = try ca.issue(for: ["f.test"])
    try chain.write(toFile: directory + "/f.crt", atomically: true, encoding: .utf8)
    try key.write(toFile: directory + "/f.key", atomically: true, encoding: .utf8)
    let node = try certificates("f.test {\n\ttls \(directory)/f.crt \(directory)/f.key\n\trespond x\n}\n")
    #expect(node.cache.lookup(serverName: "f.test")?.names == ["f.test"])
    #expect(throws: ConfigError.self) {
      try certificates("f.test {\n\ttls \(directory)/f.crt \(directory)/missing.key\n\trespond x\n}\n")
    }
  }

  @Test("storage defaults to XDG_DATA_HOME, then ~/.local/share")
  func storageDefault() {
    #expect(NodeCertificates.storageDirectory(GlobalOptions(), environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]) == "/x/edge")
    #expect(NodeCertificates.storageDirectory(GlobalOptions(), environment: ["HOME": "/h"]) == "/h/.local/share/edge")
    #expect(NodeCertificates.storageDirectory(GlobalOptions(storage: "/s"), environment: ["HOME": "/h"]) == "/s")
  }
}

/// A log handler that counts messages (shared by reference between the logger's copies).
final class LogCounter: LogHandler, @unchecked Sendable {
  private let lock = NSLock()
  private var messages: [String] = []
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .trace
  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }
  func log(event: LogEvent) {
    lock.lock()
    messages.append(event.message.description)
    lock.unlock()
  }
  func count(_ message: String) -> Int {
    lock.lock()
    defer { lock.unlock() }
    return messages.filter { $0 == message }.count
  }
}
