import EdgeConfig
import EdgeHTTP1
import EdgeProxy
import Testing

@testable import EdgeHTTP

/// `trusted_proxies`: which client a trusted peer's X-Forwarded-For names, read right to left.
@Suite struct ClientForwardingTests {
  let forwarding = ClientForwarding(ServerOptions.with(trusted: ["10.0.0.0/8", "2001:db8:ffff::/48"]))

  func client(_ fields: [(String, String)], peer: String = "10.0.0.1") -> String {
    forwarding.clientIP(HTTPHeaders(fields), peer: peer)
  }

  @Test func trustsOnlyTheConfiguredRanges() {
    #expect(forwarding.trusts("10.1.2.3"))
    #expect(forwarding.trusts("2001:db8:ffff::7"))
    #expect(!forwarding.trusts("192.0.2.1"))
    #expect(!forwarding.trusts("-"))
    #expect(!ClientForwarding(ServerOptions()).trusts("127.0.0.1"))
  }

  @Test("the rightmost untrusted entry is the client", arguments: [
    ("192.0.2.7", "192.0.2.7"),
    ("192.0.2.7, 10.0.0.2", "192.0.2.7"),
    // The client wrote the first entry itself: what the trusted proxies saw is further right.
    ("6.6.6.6, 192.0.2.7, 10.0.0.2, 10.0.0.3", "192.0.2.7"),
    ("not-an-ip, 192.0.2.7", "192.0.2.7"),
    ("192.0.2.7, garbage", "192.0.2.7"),
    ("192.0.2.7:4711, 10.0.0.2", "192.0.2.7"),
    ("[2001:db8::5]:443", "2001:db8::5"),
    ("2001:DB8:0::5, 2001:db8:ffff::1", "2001:db8::5"),
    ("fe80::1%eth0", "fe80::1"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    // Only trusted proxies, or nothing usable: the peer is the client.
    ("10.0.0.2, 10.0.0.3", "10.0.0.1"),
    ("", "10.0.0.1"),
    ("unknown", "10.0.0.1"),
  ])
  func walk(_ forwarded: String, _ expected: String) {
    #expect(client([("X-Forwarded-For", forwarded)]) == expected)
  }

  @Test func severalFieldLinesAreOneList() {
    #expect(client([("X-Forwarded-For", "192.0.2.7"), ("X-Forwarded-For", "198.51.100.1, 10.0.0.9")]) == "198.51.100.1")
    #expect(client([("X-Forwarded-For", "192.0.2.7, 10.0.0.4"), ("X-Forwarded-For", "10.0.0.9")]) == "192.0.2.7")
  }

  @Test func clientIPHeadersAreTriedInOrder() {
    var options = ServerOptions.with(trusted: ["10.0.0.0/8"])
    options.clientIPHeaders = ["X-Real-IP", "X-Forwarded-For"]
    let forwarding = ClientForwarding(options)
    let both = HTTPHeaders([("X-Forwarded-For", "192.0.2.1"), ("X-Real-IP", "198.51.100.3")])
    #expect(forwarding.clientIP(both, peer: "10.0.0.1") == "198.51.100.3")
    #expect(forwarding.clientIP(HTTPHeaders([("X-Forwarded-For", "192.0.2.1")]), peer: "10.0.0.1") == "192.0.2.1")
    // A header naming only trusted addresses gives way to the next.
    let trustedOnly = HTTPHeaders([("X-Real-IP", "10.0.0.5"), ("X-Forwarded-For", "192.0.2.1")])
    #expect(forwarding.clientIP(trustedOnly, peer: "10.0.0.1") == "192.0.2.1")
  }

  @Test func priorForwardingJoinsTheChain() {
    let prior = PriorForwarding(
      HTTPHeaders([
        ("X-Forwarded-For", "192.0.2.1"), ("X-Forwarded-For", " 10.0.0.2 "), ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "a.example"),
      ]))
    #expect(prior.forwardedFor == "192.0.2.1, 10.0.0.2")
    #expect(prior.proto == "https")
    #expect(prior.host == "a.example")
    let none = PriorForwarding(HTTPHeaders([("Host", "x")]))
    #expect(none.forwardedFor == nil && none.proto == nil && none.host == nil)
  }

  @Test func matchersSeeClientAndPeerApart() throws {
    var remote = RequestMatcher(paths: [])
    remote.remoteIPs = ["10.0.0.0/8"]
    var clientSide = RequestMatcher(paths: [])
    clientSide.clientIPs = ["192.0.2.0/24"]
    let head = RequestHead(method: "GET", target: "/", headers: HTTPHeaders([("Host", "a")]), host: "a")
    let request = MatchRequest(head: head, secure: false, remoteIP: "10.0.0.1", clientIP: "192.0.2.7")
    let raw: [UInt8] = Array("/".utf8)
    raw.withUnsafeBytes { path in
      #expect(CompiledMatcher(remote).matches(path: path, request))
      #expect(CompiledMatcher(clientSide).matches(path: path, request))
      let direct = MatchRequest(head: head, secure: false, remoteIP: "192.0.2.7")
      #expect(!CompiledMatcher(remote).matches(path: path, direct))
      #expect(CompiledMatcher(clientSide).matches(path: path, direct))
    }
  }

  @Test func placeholdersTellClientFromPeer() {
    let head = RequestHead(method: "GET", target: "/", headers: HTTPHeaders([("Host", "a")]), host: "a")
    let context = PlaceholderContext(request: head, scheme: "http", remoteIP: "10.0.0.1", clientIP: "192.0.2.7")
    #expect(Placeholders.expand("{client_ip} {remote_host} {remote}", context) == "192.0.2.7 10.0.0.1 10.0.0.1")
    let direct = PlaceholderContext(request: head, scheme: "http", remoteIP: "10.0.0.1")
    #expect(Placeholders.expand("{client_ip}", direct) == "10.0.0.1")
  }
}

extension ServerOptions {
  static func with(trusted: [String]) -> ServerOptions {
    var options = ServerOptions()
    options.trustedProxies = trusted
    return options
  }
}

/// Pool keys: a TLS and a plain connection to one address never share an entry, nor do TLS settings.
@Suite struct TransportKeyTests {
  @Test func tlsSettingsArePartOfTheKey() {
    let upstream = Upstream(host: "10.0.0.5", port: 8443)
    let target = UpstreamTarget(upstream)
    let plain = CompiledTransport(HTTPTransport(), targets: [target])
    var tls = HTTPTransport()
    tls.tls = UpstreamTLS(serverName: "app.internal")
    let secure = CompiledTransport(tls, targets: [target])
    var other = HTTPTransport()
    other.tls = UpstreamTLS(serverName: "other.internal")
    let otherName = CompiledTransport(other, targets: [target])
    #expect(plain.key(for: target) == target.key)
    #expect(secure.key(for: target) != plain.key(for: target))
    #expect(secure.key(for: target) != otherName.key(for: target))
    #expect(secure.key(for: target).text.hasPrefix("https://10.0.0.5:8443"))
    // Per client (PROXY headers): a key of its own, counted against the upstream's limit.
    let client = PoolKey(secure.key(for: target), client: "192.0.2.1:5000")
    #expect(client != secure.key(for: target) && client.group == secure.key(for: target).group && client.perClient)
  }
}
