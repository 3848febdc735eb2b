/// Upstreams of one route by index (the ones a request already tried): a bit set, with no allocation
/// for the first 64.
public struct UpstreamSet: Sendable, Equatable {
  private var low: UInt64 = 0
  private var high: Set<Int> = []

  public init() {}

  public var isEmpty: Bool { low == 0 && high.isEmpty }

  @inline(__always)
  public func contains(_ index: Int) -> Bool {
    index < 64 ? low & (1 << UInt64(index)) != 0 : high.contains(index)
  }

  public mutating func insert(_ index: Int) {
    if index < 64 { low |= 1 << UInt64(index) } else { high.insert(index) }
  }

  public mutating func removeAll() {
    low = 0
    high.removeAll()
  }
}
