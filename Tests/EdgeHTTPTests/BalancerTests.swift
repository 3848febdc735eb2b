import EdgeConfig
import EdgeHTTP1
import EdgeProxy
import EdgeRegex
import EdgeTLS
import Testing

@testable import EdgeHTTP

/// Selection by each `lb_policy`, over upstreams whose addresses are unique to each test (their counters
/// are process-wide, per address).
@Suite("Load balancing")
struct BalancerTests {
  /// A route over `count` upstreams named after `tag` (so no other test shares their counters).
  func route(
    _ tag: String, _ count: Int = 3, policy: SelectionPolicy = SelectionPolicy(), passive: PassiveHealthCheck = .init(),
    active: ActiveHealthCheck? = nil
  ) -> ProxyRoute {
    var config = ReverseProxy(upstreams: (0..<count).map { Upstream(host: "\(tag)-\($0).test", port: 8000 + $0) })
    config.loadBalancing.selection = policy
    config.healthChecks = HealthChecks(active: active, passive: passive)
    return ProxyRoute(config)
  }

  func request(_ target: String = "/", _ fields: [(String, String)] = []) -> RequestHead {
    RequestHead(method: "GET", target: target, headers: HTTPHeaders([("Host", "site.test")] + fields))
  }

  /// Picks for `n` requests (index of the upstream chosen, nil when none was).
  func picks(_ route: ProxyRoute, _ n: Int, head: RequestHead? = nil, ip: String = "192.0.2.1", tried: UpstreamSet = .init())
    -> [Int?]
  {
    (0..<n).map { _ in route.select(head ?? request(), remoteIP: ip, excluding: tried)?.index }
  }

  @Test func roundRobinTakesTurns() {
    let r = route("rr")
    let seen = picks(r, 9).compactMap { $0 }
    #expect(seen.count == 9)
    // Consecutive turns: each upstream once every three picks, in order.
    for i in 3..<9 { #expect(seen[i] == seen[i - 3]) }
    #expect(Set(seen[0..<3]) == [0, 1, 2])
  }

  @Test func roundRobinSkipsTried() {
    let r = route("rr-tried")
    var tried = UpstreamSet()
    tried.insert(1)
    let seen = picks(r, 30, tried: tried)
    #expect(!seen.contains(1) && seen.allSatisfy { $0 != nil })
    tried.insert(0)
    tried.insert(2)
    #expect(r.select(request(), remoteIP: "x", excluding: tried) == nil)
  }

  @Test func smoothWeightedOrderInterleaves() {
    #expect(SmoothWeightedOrder.cycle([5, 1, 1]) == [0, 0, 1, 0, 2, 0, 0])
    #expect(SmoothWeightedOrder.cycle([3, 1, 1]) == [0, 1, 0, 2, 0])
    #expect(SmoothWeightedOrder.cycle([2, 2]) == [0, 1])
    #expect(SmoothWeightedOrder.cycle([0, 1, 0]) == [1])
    #expect(SmoothWeightedOrder.cycle([0, 0]) == [])
  }

  @Test func weightedRoundRobinExactShares() {
    let r = route("wrr", policy: SelectionPolicy(.weightedRoundRobin, weights: [3, 1, 1]))
    let seen = picks(r, 500).compactMap { $0 }
    #expect(seen.filter { $0 == 0 }.count == 300)
    #expect(seen.filter { $0 == 1 }.count == 100)
    #expect(seen.filter { $0 == 2 }.count == 100)
    // Never the heavy one three times in a row: the turns interleave.
    for i in 2..<seen.count { #expect(!(seen[i] == 0 && seen[i - 1] == 0 && seen[i - 2] == 0)) }
  }

  @Test func randomIsRoughlyEven() {
    let r = route("random", policy: SelectionPolicy(.random))
    let seen = picks(r, 3000).compactMap { $0 }
    let counts = (0..<3).map { i in seen.filter { $0 == i }.count }
    // Chi-square with 2 degrees of freedom: 13.8 is the 0.1% tail.
    let chi = counts.map { Double(($0 - 1000) * ($0 - 1000)) / 1000 }.reduce(0, +)
    #expect(chi < 13.8, "counts \(counts)")
  }

  @Test func randomChooseTakesTheLeastBusyOfTheDraw() {
    let r = route("choose", policy: SelectionPolicy(.randomChoose, choose: 3))
    r.targets[0].stats.active.add(5, ordering: .relaxed)
    r.targets[2].stats.active.add(2, ordering: .relaxed)
    defer {
      r.targets[0].stats.active.subtract(5, ordering: .relaxed)
      r.targets[2].stats.active.subtract(2, ordering: .relaxed)
    }
    // Drawing all three, the idle one wins every time.
    #expect(Set(picks(r, 50)) == [1])
  }

  @Test func leastConnPrefersTheIdle() {
    let r = route("least", policy: SelectionPolicy(.leastConn))
    r.targets[0].stats.active.add(3, ordering: .relaxed)
    r.targets[1].stats.active.add(1, ordering: .relaxed)
    #expect(Set(picks(r, 20)) == [2])
    r.targets[0].stats.active.subtract(3, ordering: .relaxed)
    // 0 and 2 both idle now: ties go either way.
    #expect(Set(picks(r, 200)) == [0, 2])
    r.targets[1].stats.active.subtract(1, ordering: .relaxed)
  }

  @Test func firstTakesTheFirstAvailable() {
    let r = route("first", policy: SelectionPolicy(.first))
    #expect(Set(picks(r, 10)) == [0])
    var tried = UpstreamSet()
    tried.insert(0)
    #expect(Set(picks(r, 10, tried: tried)) == [1])
  }

  @Test func ipHashIsStableAndSpreads() {
    let r = route("iphash", policy: SelectionPolicy(.ipHash))
    let ips = (0..<600).map { "10.0.\($0 / 250).\($0 % 250)" }
    let first = ips.map { r.select(request(), remoteIP: $0)!.index }
    let again = ips.map { r.select(request(), remoteIP: $0)!.index }
    #expect(first == again)
    let counts = (0..<3).map { i in first.filter { $0 == i }.count }
    #expect(counts.allSatisfy { $0 > 120 }, "counts \(counts)")
  }

  @Test("hashing moves only the keys of an upstream that goes away")
  func rendezvousStability() {
    let r = route("hrw", 4, policy: SelectionPolicy(.uriHash))
    let uris = (0..<1000).map { "/item/\($0)?v=\($0 * 7)" }
    let before = uris.map { r.select(request($0), remoteIP: "x")!.index }
    var gone = UpstreamSet()
    gone.insert(2)
    let after = uris.map { r.select(request($0), remoteIP: "x", excluding: gone)!.index }
    var moved = 0
    for (b, a) in zip(before, after) {
      if b == 2 {
        #expect(a != 2)
        moved += 1
      } else {
        #expect(a == b)
      }
    }
    #expect(moved > 150 && moved < 350, "moved \(moved)")
  }

  @Test func hashIsTheSameInEveryProcess() {
    // FNV-1a 64 of "a", a published test vector: no per-process seed.
    #expect(StableHash.of("a") == 0xaf63_dc4c_8601_ec8c)
    #expect(StableHash.of("") == 0xcbf2_9ce4_8422_2325)
  }

  @Test func queryAndHeaderFallBackWhenAbsent() {
    let q = route("query", policy: SelectionPolicy(.query, key: "user", fallback: .first))
    let alice = q.select(request("/p?user=alice"), remoteIP: "x")!.index
    #expect(Set(picks(q, 20, head: request("/other?x=1&user=alice"))) == [alice])
    #expect(Set(picks(q, 20, head: request("/p?nouser=1"))) == [0])
    let users = Set((0..<60).map { q.select(request("/p?user=u\($0)"), remoteIP: "x")!.index })
    #expect(users == [0, 1, 2])
    #expect(Pick.queryValue("/p?user=a%20b&user=c+d", "user") == "a b,c d")

    let h = route("header", policy: SelectionPolicy(.header, key: "X-Tenant", fallback: .first))
    let acme = h.select(request("/", [("X-Tenant", "acme")]), remoteIP: "x")!.index
    #expect(Set(picks(h, 20, head: request("/z", [("x-tenant", "acme")]))) == [acme])
    #expect(Set(picks(h, 20)) == [0])
    let hostRoute = route("header-host", policy: SelectionPolicy(.header, key: "Host"))
    let byHost = hostRoute.select(request(), remoteIP: "x")!.index
    #expect(Set(picks(hostRoute, 20)) == [byHost])
  }

  @Test func cookieNamesTheUpstreamWithAnHMAC() {
    // Caddy's value: hex HMAC-SHA256 of "host:port" keyed by the secret (checked against Python's hmac).
    #expect(HMACSHA256.hex(key: "", "127.0.0.1:8080") == "5d126535869cbe1dd9082225d12d3d7c20cdde1db24dbd89b6389ca93a3c51ba")
    #expect(HMACSHA256.hex(key: "k3y", "app:9000") == "0294b689d3438ea4e92d1aa9e241527bbba132355f122d8dca4c388f34c8106f")
    let r = route("cookie", policy: SelectionPolicy(.cookie, key: "srv", secret: "k3y", fallback: .first))
    #expect(r.targets[1].cookieValue == HMACSHA256.hex(key: "k3y", "cookie-1.test:8001"))
    let sticky = request("/", [("Cookie", "a=1; srv=\(r.targets[2].cookieValue!); b=2")])
    #expect(Set(picks(r, 20, head: sticky)) == [2])
    #expect(r.balancer.stickyCookie(for: r.targets[2], request: sticky, secure: false) == nil)
    // No cookie: the fallback picks, and the response names its choice.
    let fresh = r.select(request(), remoteIP: "x")!
    #expect(fresh.index == 0)
    #expect(r.balancer.stickyCookie(for: fresh, request: request(), secure: false)
      == "srv=\(fresh.cookieValue!); Path=/; HttpOnly; SameSite=Lax")
    #expect(r.balancer.stickyCookie(for: fresh, request: request(), secure: true)
      == "srv=\(fresh.cookieValue!); Path=/; HttpOnly; Secure; SameSite=None")
    // Its upstream unavailable: another one, and a new cookie.
    var tried = UpstreamSet()
    tried.insert(2)
    let moved = r.select(sticky, remoteIP: "x", excluding: tried)!
    #expect(moved.index == 0)
    #expect(r.balancer.stickyCookie(for: moved, request: sticky, secure: false) != nil)
    #expect(Pick.cookie("srv", in: HTTPHeaders([("Cookie", "srv=\"abc\"")])) == "abc")
  }

  @Test func passiveFailuresMakeAnUpstreamUnavailableForAWhile() {
    let r = route("passive", policy: SelectionPolicy(.first), passive: PassiveHealthCheck(failDuration: .seconds(10), maxFails: 2))
    let t0: UInt64 = 1_000_000
    r.balancer.recordFailure(of: r.targets[0], now: t0)
    #expect(r.select(request(), remoteIP: "x", now: t0 + 1)?.index == 0)
    r.balancer.recordFailure(of: r.targets[0], now: t0 + 100)
    #expect(r.select(request(), remoteIP: "x", now: t0 + 200)?.index == 1)
    // The first failure is forgotten 10 s after it happened: one left, below max_fails.
    #expect(r.select(request(), remoteIP: "x", now: t0 + 10_001)?.index == 0)
    // Another route over the same address with passive checks off does not care.
    let other = route("passive", policy: SelectionPolicy(.first))
    #expect(other.select(request(), remoteIP: "x", now: t0 + 200)?.index == 0)
  }

  @Test func requestsInFlightCapAnUpstream() {
    let r = route("busy", policy: SelectionPolicy(.first), passive: PassiveHealthCheck(unhealthyRequestCount: 2))
    r.targets[0].stats.active.add(2, ordering: .relaxed)
    #expect(r.select(request(), remoteIP: "x")?.index == 1)
    r.targets[0].stats.active.subtract(1, ordering: .relaxed)
    #expect(r.select(request(), remoteIP: "x")?.index == 0)
    r.targets[0].stats.active.subtract(1, ordering: .relaxed)
  }

  @Test func activeHealthIsSharedPerAddressAndSettings() {
    let check = ActiveHealthCheck(uri: "/up", interval: .milliseconds(100))
    let a = route("active", policy: SelectionPolicy(.first), active: check)
    let b = route("active", policy: SelectionPolicy(.roundRobin), active: check)
    let c = route("active", active: ActiveHealthCheck(uri: "/other"))
    #expect(a.targets[0].health === b.targets[0].health)
    #expect(a.targets[0].health !== c.targets[0].health)
    a.targets[0].health!.record(passed: false, passes: 1, fails: 1)
    #expect(a.select(request(), remoteIP: "x")?.index == 1)
    #expect(!picks(b, 30).contains(0))
    #expect(c.targets[0].health!.isUsable)
    a.targets[0].health!.record(passed: true, passes: 1, fails: 1)
    #expect(a.select(request(), remoteIP: "x")?.index == 0)
  }
}

@Suite("Health checks in a route table")
struct RouteTableHealthTests {
  @Test("one checker per address and settings, however many routes name them")
  func checksAreDeduplicated() throws {
    let check = ActiveHealthCheck(uri: "/up")
    var both = ReverseProxy(upstreams: [Upstream(host: "dedupe.test", port: 1), Upstream(host: "dedupe.test", port: 2)])
    both.healthChecks.active = check
    var same = ReverseProxy(upstreams: [Upstream(host: "dedupe.test", port: 1)])
    same.healthChecks.active = check
    var other = same
    other.healthChecks.active = ActiveHealthCheck(uri: "/other")
    let unchecked = ReverseProxy(upstreams: [Upstream(host: "dedupe.test", port: 1)])
    var address = SiteAddress(original: ":8080")
    address.port = 8080
    let routes = [both, same, other, unchecked].enumerated().map { i, proxy in
      Route(matcher: RequestMatcher(paths: ["/\(i)/*"]), handler: .reverseProxy(proxy))
    }
    let table = try RouteTable(
      config: EdgeConfig(global: GlobalOptions(httpPort: 8080), sites: [Site(addresses: [address], routes: routes)]))
    let keys = table.activeHealthChecks
    #expect(keys.count == 3)
    #expect(Set(keys.map(\.address)) == ["dedupe.test:1", "dedupe.test:2"])
    #expect(table.proxyRoutes.count == 4)
    // The table lists each address once; one checker's verdict makes it unhealthy for the routes it checks.
    let first = keys.first { $0.address == "dedupe.test:1" && $0.check == check }!
    HealthCheckKey.health(for: first).record(passed: false, passes: 1, fails: 1)
    let listed = table.upstreamStatus()
    #expect(listed.map(\.address) == ["dedupe.test:1", "dedupe.test:2"])
    #expect(listed[0].activeHealth == .unhealthy && !listed[0].healthy)
    #expect(listed[1].activeHealth == .unchecked && listed[1].healthy)
  }
}

@Suite("Health state")
struct HealthStateTests {
  @Test func consecutiveResultsFlipTheStatus() {
    let health = UpstreamHealth()
    #expect(health.status == .unchecked && health.isUsable)
    #expect(health.record(passed: false, passes: 2, fails: 2) == nil)
    #expect(health.record(passed: true, passes: 2, fails: 2) == .healthy)  // a pass breaks the streak
    #expect(health.record(passed: false, passes: 2, fails: 2) == nil)
    #expect(health.record(passed: false, passes: 2, fails: 2) == .unhealthy)
    #expect(!health.isUsable)
    #expect(health.record(passed: true, passes: 2, fails: 2) == nil)
    #expect(health.record(passed: false, passes: 2, fails: 2) == nil)
    #expect(health.record(passed: true, passes: 2, fails: 2) == nil)
    #expect(health.record(passed: true, passes: 2, fails: 2) == .healthy)
  }

  @Test func failureLogCountsWithinEachWindow() {
    let log = FailureLog()
    #expect(log.count(at: 100, window: 50) == 0)
    for t: UInt64 in [1000, 1100, 1200] { log.record(at: t, window: 500) }
    #expect(log.count(at: 1250, window: 500) == 3)
    #expect(log.count(at: 1250, window: 100) == 1)
    #expect(log.count(at: 1250, window: 500, limit: 2) == 2)
    #expect(log.count(at: 1650, window: 500) == 1)
    #expect(log.count(at: 1800, window: 500) == 0)
  }

  @Test func upstreamSetBeyondSixtyFour() {
    var set = UpstreamSet()
    #expect(set.isEmpty)
    set.insert(3)
    set.insert(70)
    #expect(set.contains(3) && set.contains(70) && !set.contains(4) && !set.contains(71))
    set.removeAll()
    #expect(set.isEmpty)
  }
}

@Suite("Health probes")
struct HealthProbeTests {
  func probe(statuses: [ClosedRange<Int>] = [], body: String? = nil, method: String = "GET") throws -> HealthProbe {
    HealthProbe(
      host: "127.0.0.1", port: 9, uri: "/up?x=1", hostHeader: "app:9", fields: [("X-A", "1")], method: method,
      statuses: statuses, body: try body.map { try CompiledRegex($0) }, timeoutMilliseconds: 100,
      intervalMilliseconds: 100, passes: 1, fails: 1)
  }

  func verdict(_ probe: HealthProbe, _ pieces: [String], end: Bool = false) -> ProbeVerdict? {
    var reader = ProbeReader(probe)
    for piece in pieces {
      if let v = Array(piece.utf8).withUnsafeBytes({ reader.read($0) }) { return v }
    }
    return end ? reader.end() : nil
  }

  @Test func requestIsPlainHTTP11() throws {
    let p = try probe()
    #expect(String(decoding: p.request, as: UTF8.self)
      == "GET /up?x=1 HTTP/1.1\r\nHost: app:9\r\nX-A: 1\r\nUser-Agent: edge-health-check\r\nConnection: close\r\n\r\n")
  }

  @Test func statusDecides() throws {
    #expect(verdict(try probe(), ["HTTP/1.1 204 No Content\r\n", "\r\n"]) == .pass)
    #expect(verdict(try probe(), ["HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"]) == .fail("status 503"))
    #expect(verdict(try probe(statuses: [301...301]), ["HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n"]) == .pass)
    #expect(verdict(try probe(), ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"]) == .pass)
    #expect(verdict(try probe(), ["HTTP/1.1 20"], end: true) == .fail("connection closed before a response"))
    #expect(verdict(try probe(), ["garbage\r\n\r\n"]) != .pass)
  }

  @Test func bodyMustMatch() throws {
    let p = try probe(body: "status: (ok|fine)")
    #expect(verdict(p, ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nstatus", ": ok"]) == .pass)
    #expect(verdict(p, ["HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nstatus: down"]) == .fail("body does not match health_body"))
    #expect(verdict(p, ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nstatus: \r\n4\r\nfine\r\n0\r\n\r\n"]) == .pass)
    #expect(verdict(p, ["HTTP/1.1 200 OK\r\n\r\nstatus: fine"], end: true) == .pass)
    #expect(verdict(p, ["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstatus: ok"], end: true)
      == .fail("connection closed inside the response body"))
  }
}
