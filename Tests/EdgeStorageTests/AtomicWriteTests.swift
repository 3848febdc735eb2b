import EdgeCore
import Foundation
import Testing
@testable import EdgeStorage

#if canImport(Glibc)
  import Glibc
#endif

@Suite("FileStorage writes are atomic")
struct AtomicWriteTests {
  @Test("a reader looping while a 1 MiB value is rewritten 200 times only ever sees whole values")
  func readerNeverSeesPartialValue() throws {
    let storage = TemporaryRoot().storage
    let size = 1 << 20
    let key = "certificates/big.crt"
    try storage.store(key, [UInt8](repeating: 1, count: size), secret: false)
    let done = Locked(false)
    let seen = Locked((reads: 0, torn: 0, versions: Set<UInt8>()))
    let reader = Thread {
      while !done.withLock({ $0 }) {
        guard let value = try? storage.load(key) else {
          seen.withLock { $0.torn += 1 }  // a missing file is as bad as a partial one
          continue
        }
        // Whole: the full length, every byte the same as the first.
        let whole = value.count == size && value.withUnsafeBytes { memcmp($0.baseAddress!, $0.baseAddress! + 1, size - 1) == 0 }
        seen.withLock {
          $0.reads += 1
          if whole { $0.versions.insert(value[0]) } else { $0.torn += 1 }
        }
      }
    }
    reader.start()
    for round in 0..<200 {
      try storage.store(key, [UInt8](repeating: UInt8(round % 250 + 2), count: size), secret: round % 2 == 0)
    }
    done.withLock { $0 = true }
    while !reader.isFinished { usleep(1000) }
    let result = seen.withLock { $0 }
    #expect(result.torn == 0)
    #expect(result.reads > 10)
    #expect(result.versions.count > 2, "the reader should have seen several versions go by")
    #expect(try storage.load(key) == [UInt8](repeating: UInt8(199 % 250 + 2), count: size))
  }
}
