/// The libFuzzer input as a buffer (libFuzzer's own allocation has exactly `size` bytes).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
  guard let data, size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
  return UnsafeRawBufferPointer(start: data, count: size)
}
