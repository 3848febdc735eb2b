/// Which idle connections can serve a request: the upstream's `host:port` — with the TLS settings for a
/// TLS upstream, so a TLS and a plain connection to one address never share an entry, and with the
/// client's address when a PROXY header names it — hashed once, not on every request.
public struct PoolKey: Hashable, Sendable, CustomStringConvertible {
  public let text: String
  /// The upstream the key's connections count against (`max_conns_per_host`): `text` itself, unless the
  /// key is per client.
  public let group: String
  /// Connections under this key carry one client's PROXY header: they serve that client connection only,
  /// and the pool forgets the key once nothing is parked under it.
  public let perClient: Bool
  private let hashValueOnce: Int

  public init(_ text: String) {
    self.text = text
    group = text
    perClient = false
    hashValueOnce = text.hashValue
  }

  /// A key for one client connection's upstream connections to the upstream `base` names.
  public init(_ base: PoolKey, client: String) {
    text = base.text + "|client=" + client
    group = base.group
    perClient = true
    hashValueOnce = text.hashValue
  }

  public func hash(into hasher: inout Hasher) { hasher.combine(hashValueOnce) }
  public static func == (a: PoolKey, b: PoolKey) -> Bool { a.hashValueOnce == b.hashValueOnce && a.text == b.text }
  public var description: String { text }
}
