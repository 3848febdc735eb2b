import EdgeConfig
import EdgeHTTP1

/// Who edge believes about client addresses, compiled from `servers { listener_wrappers { proxy_protocol }
/// trusted_proxies … client_ip_headers … }`.
public final class ClientForwarding: Sendable {
  /// `listener_wrappers { proxy_protocol { … } }`; nil: connections are served as they come.
  let proxyProtocol: InboundProxyProtocol?
  /// `trusted_proxies`; empty: no peer is trusted.
  let trusted: [IPRange]
  /// `client_ip_headers`, default X-Forwarded-For.
  let clientIPHeaders: [String]

  init(_ options: ServerOptions) {
    proxyProtocol = options.proxyProtocol.map { InboundProxyProtocol($0, readHeader: options.readHeaderTimeout) }
    trusted = (options.trustedProxies ?? []).compactMap(IPRange.init)
    clientIPHeaders = options.clientIPHeaders ?? ["X-Forwarded-For"]
  }

  /// Whether `peer` (the connection's remote address) is a trusted proxy.
  func trusts(_ peer: String) -> Bool {
    guard !trusted.isEmpty, let address = IPRange.address(peer) else { return false }
    return trusted.contains { $0.contains(address: address) }
  }

  /// The client of a request a trusted peer forwarded: in each of `client_ip_headers` in turn (every
  /// field line of it, joined), the rightmost address that is not a trusted proxy — what the first proxy
  /// edge trusts saw. Entries that are not addresses are skipped; with none left, the peer is the client
  /// (Caddy's `trusted_proxies_strict`).
  func clientIP(_ headers: HTTPHeaders, peer: String) -> String {
    for name in clientIPHeaders {
      let values = headers.values(name)
      if values.isEmpty { continue }
      for entry in values.joined(separator: ",").split(separator: ",").reversed() {
        guard let address = Self.address(in: entry) else { continue }
        if !trusted.contains(where: { $0.contains(address: address) }) { return IPRange.text(address) }
      }
    }
    return peer
  }

  /// The address in one X-Forwarded-For entry: `192.0.2.1`, `2001:db8::1`, with a port (`192.0.2.1:1234`,
  /// `[2001:db8::1]:1234`) or a zone (`fe80::1%eth0`) as some proxies write them.
  static func address(in entry: Substring) -> [UInt8]? {
    var text = entry.trimmingCharacters(in: " \t")
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else { return nil }
      text = text[text.index(after: text.startIndex)..<close]
    } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
      text = text[..<colon]
    }
    if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
    return IPRange.address(String(text))
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: String) -> Substring {
    var text = self
    while let first = text.first, set.contains(first) { text = text.dropFirst() }
    while let last = text.last, set.contains(last) { text = text.dropLast() }
    return text
  }
}

/// `listener_wrappers { proxy_protocol }`, compiled: which policy a peer gets, and how long its header
/// may take.
struct InboundProxyProtocol: Sendable {
  let allow: [IPRange]
  let deny: [IPRange]
  let fallback: ProxyProtocolListener.Policy
  let timeoutMilliseconds: UInt64

  init(_ wrapper: ProxyProtocolListener, readHeader: Duration) {
    allow = wrapper.allow.compactMap(IPRange.init)
    deny = wrapper.deny.compactMap(IPRange.init)
    fallback = wrapper.fallbackPolicy
    timeoutMilliseconds = (wrapper.timeout > .zero ? wrapper.timeout : readHeader).milliseconds
  }

  /// `deny` first (reject), then `allow` (use), else the fallback policy, as Caddy decides.
  func policy(for peer: String?) -> ProxyProtocolListener.Policy {
    guard let peer, let address = IPRange.address(peer) else { return .reject }
    if deny.contains(where: { $0.contains(address: address) }) { return .reject }
    if allow.contains(where: { $0.contains(address: address) }) { return .use }
    return fallback
  }
}
