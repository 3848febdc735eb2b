import Glibc

/// Per-loop memory for socket I/O: one read buffer that every stream on the loop shares (libuv hands it
/// back in the read callback, which consumes or copies it before returning), and a free list of fixed-size
/// blocks for writes the kernel did not take at once.
final class BufferPool {
  static let readSize = 64 * 1024
  static let blockSize = 16 * 1024
  static let maxCachedBlocks = 512

  let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: readSize, alignment: 16)
  private var free: [UnsafeMutableRawPointer] = []

  deinit {
    readBuffer.deallocate()
    for block in free { Glibc.free(block) }
  }

  /// A block of at least `size` bytes; pooled when it fits a standard block.
  func take(_ size: Int) -> UnsafeMutableRawPointer {
    if size <= Self.blockSize {
      if let block = free.popLast() { return block }
      return malloc(Self.blockSize)!
    }
    return malloc(size)!
  }

  func give(_ block: UnsafeMutableRawPointer, size: Int) {
    if size <= Self.blockSize && free.count < Self.maxCachedBlocks {
      free.append(block)
    } else {
      Glibc.free(block)
    }
  }
}
