/// Which idle connections can serve an upstream: its `host:port`, hashed once when the route table is
/// compiled instead of on every request.
public struct PoolKey: Hashable, Sendable, CustomStringConvertible {
  public let text: String
  private let hashValueOnce: Int

  public init(_ text: String) {
    self.text = text
    hashValueOnce = text.hashValue
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(hashValueOnce) }
  public static func == (a: PoolKey, b: PoolKey) -> Bool { a.hashValueOnce == b.hashValueOnce && a.text == b.text }
  public var description: String { text }
}
