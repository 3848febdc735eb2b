/// Calls `body` with a copy of `bytes` in an allocation of exactly that size, so AddressSanitizer
/// reports a read one byte past the end (an Array's spare capacity, or the rest of a larger input, would
/// hide it).
public func withExactCopy<R>(_ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
  let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
  defer { buffer.deallocate() }
  _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
  return try body(UnsafeRawBufferPointer(buffer))
}

/// Where to split an input for the "fed in two pieces" checks: a position derived from the bytes
/// themselves, so a saved crash input reproduces the same split.
public func splitPoint(_ bytes: UnsafeRawBufferPointer) -> Int {
  guard bytes.count > 1 else { return bytes.count }
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
  return Int(hash % UInt64(bytes.count))
}
