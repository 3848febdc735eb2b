import EdgeConfig
import EdgeHTTP
import Testing

@Suite("Path patterns")
struct PathPatternTests {
  @Test(
    "Caddy path matcher forms",
    arguments: [
      ("/api/*", "/api/v1/x", true), ("/api/*", "/API/v1", true), ("/api/*", "/apix", false),
      ("/a", "/a", true), ("/a", "/a/", false), ("*.png", "/img/x.PNG", true), ("*.png", "/x.png.txt", false),
      ("*/live/*", "/api/live/ws", true), ("*", "/anything", true),
    ])
  func matches(_ pattern: String, _ path: String, _ expected: Bool) {
    var p = path
    let result = p.withUTF8 { PathPattern(pattern).matches(UnsafeRawBufferPointer($0)) }
    #expect(result == expected)
  }
}

@Suite("Route table")
struct RouteTableTests {
  func table(_ sites: [Site], httpPort: Int = 8080) throws -> RouteTable {
    try RouteTable(config: EdgeConfig(global: GlobalOptions(httpPort: httpPort), sites: sites))
  }

  func site(_ addresses: String..., body: String) -> Site {
    Site(
      addresses: addresses.map { text in
        var a = SiteAddress(original: text)
        var rest = Substring(text)
        if rest.hasPrefix("http://") {
          a.scheme = "http"
          rest = rest.dropFirst(7)
        }
        if let colon = rest.lastIndex(of: ":") {
          a.port = Int(rest[rest.index(after: colon)...])
          rest = rest[..<colon]
        }
        a.host = rest.isEmpty ? nil : String(rest)
        return a
      },
      routes: [Route(handler: .respond(Respond(status: 200, body: body)))])
  }

  func body(_ routes: ListenerRoutes?, _ host: String?) -> String? {
    guard case .respond(let r) = routes?.site(forHost: host)?.routes.first?.handler else { return nil }
    return String(decoding: r.body, as: UTF8.self)
  }

  @Test("hosts: exact, wildcard of one label, catch-all, port and case ignored")
  func hostLookup() throws {
    let t = try table([
      site("http://a.test:8080", body: "a"), site("http://*.w.test:8080", body: "w"), site(":8080", body: "any"),
    ])
    let routes = t.listeners[8080]
    #expect(body(routes, "a.test") == "a")
    #expect(body(routes, "A.TEST:8080") == "a")
    #expect(body(routes, "x.w.test") == "w")
    #expect(body(routes, "x.y.w.test") == "any")
    #expect(body(routes, "other") == "any")
    #expect(body(routes, nil) == "any")
  }

  @Test("a site address with a path takes only that path; the host's other site takes the rest")
  func pathSites() throws {
    var api = site("http://a.test:8080", body: "api")
    api.addresses[0].path = "/api/*"
    let t = try table([site("http://a.test:8080", body: "root"), api])
    let routes = t.listeners[8080]!
    #expect(routes.hasPathSites)
    func bodyFor(_ path: String) -> String? {
      var p = path
      let found = p.withUTF8 { routes.site(forHost: "a.test", path: UnsafeRawBufferPointer($0)) }
      guard case .respond(let r) = found?.routes.first?.handler else { return nil }
      return String(decoding: r.body, as: UTF8.self)
    }
    #expect(bodyFor("/api/v1") == "api")
    #expect(bodyFor("/other") == "root")
  }

  @Test("a host name is served over HTTPS on https_port, and plain HTTP for it redirects")
  func automaticHTTPS() throws {
    let t = try table([site("example.com", body: "x"), site("localhost:9443", body: "l")])
    #expect(t.listeners[443]?.secure == true)
    #expect(t.listeners[9443]?.secure == true)
    #expect(t.listeners[8080]?.secure == false)
    let redirect = t.listeners[8080]?.site(forHost: "example.com")
    guard case .redirectToHTTPS(let port) = redirect?.routes.last?.handler else {
      Issue.record("no redirect for example.com on the HTTP port")
      return
    }
    #expect(port == 443)
    // The ACME challenge path is not redirected.
    var challenge = "/.well-known/acme-challenge/token"
    let first = challenge.withUTF8 { path in redirect?.routes.first { $0.matches(path: UnsafeRawBufferPointer(path)) } }
    guard case .respond(let response) = first?.handler else {
      Issue.record("challenge path is not answered locally")
      return
    }
    #expect(response.status == 404)
    #expect(t.listeners[8080]?.site(forHost: "other.test") == nil)
  }

  @Test("a site written for plain HTTP on the HTTP port keeps its host; no redirect replaces it")
  func explicitHTTPWins() throws {
    let t = try table([site("example.com", body: "tls"), site("http://example.com:8080", body: "plain")])
    #expect(body(t.listeners[8080], "example.com") == "plain")
  }

  @Test("auto_https off serves host names over plain HTTP; disable_redirects keeps HTTPS without redirects")
  func autoHTTPSOptions() throws {
    var off = EdgeConfig(global: GlobalOptions(httpPort: 8080), sites: [site("example.com", body: "x")])
    off.global.autoHTTPS = .off
    #expect(try RouteTable(config: off).listeners.keys.sorted() == [8080])
    var noRedirects = off
    noRedirects.global.autoHTTPS = .disableRedirects
    #expect(try RouteTable(config: noRedirects).listeners.keys.sorted() == [443])
  }

  @Test("one port cannot serve both plain HTTP and HTTPS")
  func mixedPortRefused() {
    #expect(throws: ConfigError.self) { try table([site("http://a.test:9000", body: "a"), site("b.test:9000", body: "b")]) }
  }

  @Test("a host on the http_port, or no host at all, is plain HTTP")
  func plainHTTP() throws {
    let t = try table([site("localhost:8080", body: "l"), site(":9090", body: "n")])
    #expect(Set(t.listeners.keys) == [8080, 9090])
  }
}
