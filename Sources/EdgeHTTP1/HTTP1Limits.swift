/// Size limits a head parser enforces while bytes arrive.
public struct HTTP1Limits: Equatable, Sendable {
  /// The largest head, start line to the empty line inclusive (beyond it: 431).
  public var maxHeadBytes: Int
  /// The longest request target (beyond it: 414).
  public var maxURIBytes: Int
  /// The most header fields (beyond it: 431).
  public var maxHeaderCount: Int

  public init(maxHeadBytes: Int = 16384, maxURIBytes: Int = 8192, maxHeaderCount: Int = 100) {
    self.maxHeadBytes = maxHeadBytes
    self.maxURIBytes = maxURIBytes
    self.maxHeaderCount = maxHeaderCount
  }
}
