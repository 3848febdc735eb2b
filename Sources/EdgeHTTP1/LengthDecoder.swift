/// Reads a body of known length (Content-Length), passing its bytes through without copying.
public struct LengthDecoder: Sendable {
  /// Body bytes still to come.
  public private(set) var remaining: Int

  public init(length: Int) {
    remaining = max(length, 0)
  }

  /// Passes the body bytes at the start of `input` to `data`; returns how many bytes it took and
  /// whether the body is complete. Bytes after the body are left alone. Never throws; the shape
  /// matches `ChunkedDecoder`.
  public mutating func decode(
    _ input: UnsafeRawBufferPointer, data: (UnsafeRawBufferPointer) -> Void
  ) throws(HTTP1Error) -> (consumed: Int, finished: Bool) {
    let take = min(remaining, input.count)
    if take > 0 {
      data(input.slice(0..<take))
      remaining -= take
    }
    return (take, remaining == 0)
  }
}
