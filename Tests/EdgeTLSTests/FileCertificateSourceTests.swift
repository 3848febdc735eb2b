import Foundation
import Synchronization
import Testing
@testable import EdgeTLS

@Suite("file certificate source") struct FileCertificateSourceTests {
  let certificates = TestCertificates.shared

  func ask(_ source: FileCertificateSource, _ name: String) -> CertifiedKey?? {
    let answer = Mutex<CertifiedKey??>(nil)
    source.certificate(for: name) { key in answer.withLock { $0 = .some(key) } }
    guard eventually({ answer.withLock { $0 != nil } }) else { return nil }
    return answer.withLock { $0 }
  }

  @Test("finds <name>.crt and <name>.key, then the wildcard") func finds() throws {
    let source = FileCertificateSource(directory: certificates.directory)
    #expect(ask(source, "b.test")??.names == ["b.test"])
    #expect(ask(source, "B.TEST")??.names == ["b.test"])
    #expect(ask(source, "x.wild.test")??.names == ["*.wild.test"])
    let missing = try #require(ask(source, "nobody.test"))
    #expect(missing == nil)
  }

  @Test("names that could leave the directory are not looked up", arguments: ["../a.test", ".hidden", "a/b", ""])
  func unsafeNames(name: String) throws {
    #expect(!FileCertificateSource.isSafeFileName(name))
    let answer = try #require(ask(FileCertificateSource(directory: certificates.directory), name))
    #expect(answer == nil)
  }

  @Test("a broken pair is reported, not served") func broken() throws {
    let directory = certificates.directory + "/mismatched"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try certificates.pem("a.test").chain.write(toFile: directory + "/a.test.crt", atomically: true, encoding: .utf8)
    try certificates.pem("b.test").key.write(toFile: directory + "/a.test.key", atomically: true, encoding: .utf8)
    let errors = Mutex<[CertificateError]>([])
    let source = FileCertificateSource(directory: directory) { error in errors.withLock { $0.append(error) } }
    #expect(source.load("a.test") == nil)
    #expect(errors.withLock { $0.map(\.reason) } == [.keyMismatch])
    #expect(errors.withLock { $0.first?.source } == directory + "/a.test.crt")
  }
}
