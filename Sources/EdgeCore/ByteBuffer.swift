/// A growable byte queue for one connection: bytes are appended at the back and consumed from the front,
/// without copy-on-write checks or per-append allocation. Owned by one loop; not Sendable.
public final class ByteBuffer {
  private var storage: UnsafeMutableRawPointer
  public private(set) var capacity: Int
  private var start = 0
  private var end = 0

  /// `capacity` 0: no memory until the first append (for buffers many connections never use).
  public init(capacity: Int = 4096) {
    self.capacity = capacity > 0 ? max(capacity, 64) : 0
    storage = .allocate(byteCount: max(self.capacity, 1), alignment: 16)
  }

  deinit { storage.deallocate() }

  /// Bytes waiting to be consumed.
  public var count: Int { end - start }
  public var isEmpty: Bool { end == start }

  /// The bytes waiting to be consumed. Valid until the next mutation.
  public var readable: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: storage + start, count: end - start)
  }

  public func append(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count > 0 else { return }
    reserve(bytes.count)
    (storage + end).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    end += bytes.count
  }

  public func append(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { append($0) }
  }

  /// Drops `n` bytes from the front.
  public func consume(_ n: Int) {
    precondition(n <= count, "consuming more than buffered")
    start += n
    if start == end {
      start = 0
      end = 0
    }
  }

  public func removeAll() {
    start = 0
    end = 0
  }

  /// Makes room for `n` more bytes at the back: first by moving the unread bytes to the front, then by growing.
  private func reserve(_ n: Int) {
    if end + n <= capacity { return }
    let live = end - start
    if live + n <= capacity && start > 0 {
      storage.copyMemory(from: storage + start, byteCount: live)
    } else {
      var newCapacity = max(capacity * 2, 4096)
      while newCapacity < live + n { newCapacity *= 2 }
      let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
      bigger.copyMemory(from: storage + start, byteCount: live)
      storage.deallocate()
      storage = bigger
      capacity = newCapacity
    }
    start = 0
    end = live
  }
}

// Invariant: a buffer belongs to one connection and is used only on that connection's loop thread; it may
// be handed to another actor on the same loop (a tunnel takes the bytes read before a protocol switch).
extension ByteBuffer: @unchecked Sendable {}
