import Foundation
import Testing

@testable import EdgeConfig

@Suite struct DurationTests {
  @Test(arguments: [
    ("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("5m", .seconds(300)), ("1h", .seconds(3600)),
    ("1d", .seconds(86400)), ("1m30s", .seconds(90)), ("1.5h", .seconds(5400)), ("30", .seconds(30)),
    ("250us", .microseconds(250)), ("1ns", .nanoseconds(1)), ("-1", .seconds(-1)), ("0", .zero),
  ])
  func parses(text: String, expected: Duration) {
    #expect(Duration(caddyfile: text) == expected)
  }

  @Test func rejects() {
    for text in ["", "s", "10x", "1.2.3s", "ms", "10 s", "abc", "1h-5m"] { #expect(Duration(caddyfile: text) == nil, "\(text)") }
  }

  @Test func formatsAndRoundTrips() {
    #expect(Duration.seconds(90).caddyfileString == "1m30s")
    #expect(Duration.milliseconds(1500).caddyfileString == "1s500ms")
    #expect(Duration.zero.caddyfileString == "0s")
    #expect(Duration.seconds(-5).caddyfileString == "-5s")
    for d: Duration in [.seconds(30), .milliseconds(1), .nanoseconds(123_456_789_012), .seconds(86400 * 3)] {
      #expect(Duration(caddyfile: d.caddyfileString) == d)
    }
  }
}

@Suite struct ByteSizeTests {
  @Test(arguments: [
    ("512", 512), ("16KB", 16_000), ("16kb", 16_000), ("16KiB", 16_384), ("10MB", 10_000_000),
    ("1MiB", 1_048_576), ("1GB", 1_000_000_000), ("1.5KB", 1500), ("2 MB", 2_000_000), ("8k", 8000), ("0", 0),
  ])
  func parses(text: String, expected: Int) {
    #expect(ByteSize.parse(text) == expected)
  }

  @Test func rejects() {
    for text in ["", "KB", "10XB", "-5", "ten"] { #expect(ByteSize.parse(text) == nil, "\(text)") }
  }
}

@Suite struct SiteAddressTests {
  @Test(arguments: [
    ("example.com", nil, "example.com", nil, nil), ("example.com:8080", nil, "example.com", 8080, nil),
    ("http://example.com", "http", "example.com", nil, nil), ("https://example.com:8443", "https", "example.com", 8443, nil),
    (":8080", nil, nil, 8080, nil), ("http://:8080", "http", nil, 8080, nil), ("*.example.com", nil, "*.example.com", nil, nil),
    ("127.0.0.1:8080", nil, "127.0.0.1", 8080, nil), ("[::1]:8080", nil, "::1", 8080, nil), ("localhost", nil, "localhost", nil, nil),
    ("example.com/api/*", nil, "example.com", nil, "/api/*"), ("HTTP://A.com", "http", "A.com", nil, nil),
  ] as [(String, String?, String?, Int?, String?)])
  func parses(text: String, scheme: String?, host: String?, port: Int?, path: String?) throws {
    let address = try SiteAddress(parsing: text)
    #expect(address == SiteAddress(scheme: scheme, host: host, port: port, path: path, original: text))
  }

  @Test func errorsAreAtTheKey() {
    #expect(failure("ftp://x {\n}") == "Caddyfile:1:1: unsupported scheme 'ftp' in site address 'ftp://x'; use http:// or https://")
    #expect(failure("a.com, b.com:99999 {\n}")
      == "Caddyfile:1:8: invalid port '99999' in site address 'b.com:99999'; use a number from 1 to 65535")
    #expect(failure("a.com:0 {\n}").contains("invalid port '0'"))
    #expect(failure("\"\" {\n}").hasPrefix("Caddyfile:1:1: empty site address"))
    #expect(failure("bad host {\n}") == "no error")
    #expect(failure("b@d {\n}").contains("invalid host 'b@d'"))
  }

  @Test func environmentVariables() throws {
    let config = try adapt("{$DOMAIN} {\n\treverse_proxy {$UPSTREAM:app:80}\n}", env: ["DOMAIN": "env.example.com"])
    #expect(config.sites[0].addresses[0].host == "env.example.com")
    #expect(proxy(config.sites[0].routes[0])?.upstreams == [Upstream(host: "app", port: 80)])
  }
}

@Suite struct JSONTests {
  static let full = EdgeConfig(
    global: GlobalOptions(
      workers: 2, httpPort: 8080, httpsPort: 8443, gracePeriod: .milliseconds(1500),
      servers: ServerOptions(readHeaderTimeout: .seconds(5), idleTimeout: .seconds(90), maxHeaderBytes: 1000),
      email: "a@b.c", admin: "off", logLevel: "warn"),
    sites: [
      Site(
        addresses: [SiteAddress(scheme: "http", host: "a.com", port: 8080, path: "/x/*", original: "http://a.com:8080/x/*")],
        routes: [
          Route(handler: .requestBody(RequestBody(maxSize: 1000))),
          Route(matcher: RequestMatcher(paths: ["/h"]), handler: .respond(Respond(status: 204, body: "b", close: true)),
            location: SourceLocation(file: "C", line: 3, column: 2)),
          Route(handler: .reverseProxy(ReverseProxy(
            upstreams: [Upstream(host: "::1", port: 9000)], headerUp: [HeaderOperation(kind: .add, name: "X", value: "y")],
            streamIdleTimeout: nil, streamTimeout: .seconds(60),
            transport: HTTPTransport(dialTimeout: .milliseconds(250), keepAlive: nil, keepAliveIdleConns: 4)))),
        ],
        location: SourceLocation(file: "C", line: 1, column: 1)),
    ])

  @Test func roundTrip() throws {
    for pretty in [true, false] {
      let json = Self.full.jsonString(pretty: pretty)
      #expect(try EdgeConfig(json: json) == Self.full)
    }
  }

  @Test func durationsAreStrings() {
    let json = Self.full.jsonString(pretty: false)
    #expect(json.contains(#""gracePeriod":"1s500ms""#))
    #expect(json.contains(#""dialTimeout":"250ms""#))
    #expect(json.contains(#""keepAlive":null"#))
    #expect(json.contains(#"{"respond":{"#))
  }

  @Test func minimalJSONUsesDefaults() throws {
    let config = try EdgeConfig(json: #"""
      {"version": 1, "global": {"gracePeriod": 10}, "sites": [{"addresses": [{"original": ":80", "port": 80}],
       "routes": [{"handler": {"reverseProxy": {"upstreams": [{"host": "a", "port": 1}]}}}]}]}
      """#)
    #expect(config.global.gracePeriod == .seconds(10) && config.global.httpPort == 80)
    #expect(proxy(config.sites[0].routes[0]) == ReverseProxy(upstreams: [Upstream(host: "a", port: 1)]))
  }

  @Test func badJSONSaysWhere() {
    #expect(throws: ConfigError.self) { try EdgeConfig(json: #"{"version":1,"global":{"gracePeriod":"soon"},"sites":[]}"#) }
    do {
      _ = try EdgeConfig(json: #"{"version":1,"global":{},"sites":[{}]}"#)
    } catch {
      #expect(error.message.contains("sites[0]: missing key 'addresses'"))
    }
  }

  @Test func adaptedCaddyfileRoundTrips() throws {
    let config = try adapt("{\n\tgrace_period 45s\n}\n:8080 {\n\treverse_proxy /a/* x:1 {\n\t\tstream_timeout 1h\n\t}\n\trespond 404\n}")
    #expect(try EdgeConfig(json: config.jsonString(pretty: true)) == config)
  }
}

@Suite struct ValidateTests {
  func validationError(_ config: EdgeConfig) -> String {
    do {
      try config.validate()
      return "no error"
    } catch {
      return error.description
    }
  }

  @Test func duplicateSiteAddress() throws {
    let config = try adapt("a.com {\n\trespond 200\n}\n\nA.com {\n\trespond 201\n}")
    #expect(validationError(config)
      == "Caddyfile:5:1: site address 'A.com' is used by two site blocks (first at Caddyfile:1:1); merge them or remove one")
  }

  @Test func reverseProxyWithoutUpstreams() {
    let config = EdgeConfig(sites: [Site(
      addresses: [SiteAddress(port: 80, original: ":80")],
      routes: [Route(handler: .reverseProxy(ReverseProxy(upstreams: [])), location: SourceLocation(file: "j", line: 2, column: 3))])])
    #expect(validationError(config) == "j:2:3: reverse_proxy has no upstreams; add at least one")
  }

  @Test func portsAndWorkers() {
    var config = EdgeConfig()
    config.global.httpPort = 70000
    #expect(validationError(config) == "http_port: port 70000 is outside 1–65535")
    config = EdgeConfig(global: GlobalOptions(workers: 0))
    #expect(validationError(config).hasPrefix("workers must be at least 1"))
    config = EdgeConfig(sites: [Site(addresses: [SiteAddress(port: 0, original: ":0")])])
    #expect(validationError(config) == "site ':0': port 0 is outside 1–65535")
    config = EdgeConfig(sites: [Site(
      addresses: [SiteAddress(port: 80, original: ":80")],
      routes: [Route(handler: .reverseProxy(ReverseProxy(upstreams: [Upstream(host: "a", port: 0)])))])])
    #expect(validationError(config) == "upstream 'a:0': port 0 is outside 1–65535")
  }

  @Test func otherChecks() {
    #expect(validationError(EdgeConfig(global: GlobalOptions(httpPort: 8080, httpsPort: 8080))).contains("both 8080"))
    #expect(validationError(EdgeConfig(global: GlobalOptions(logLevel: "loud"))).contains("log level 'loud'"))
    #expect(validationError(EdgeConfig(global: GlobalOptions(servers: ServerOptions(idleTimeout: .zero)))).contains("'idle' must be positive"))
    let badStatus = EdgeConfig(sites: [Site(addresses: [SiteAddress(port: 80, original: ":80")], routes: [Route(handler: .respond(Respond(status: 42)))])])
    #expect(validationError(badStatus).contains("respond status 42"))
    #expect(validationError(EdgeConfig()) == "no error")
  }
}

@Suite struct AdminOptionTests {
  @Test func addresses() throws {
    let unix = try AdminAddress(parsing: "unix//run/edge/admin.sock")
    #expect(unix.unixPath == "/run/edge/admin.sock")
    #expect(unix.isLoopback)
    let tcp = try AdminAddress(parsing: ":2019")
    #expect((tcp.host, tcp.port, tcp.unixPath) == ("0.0.0.0", 2019, nil))
    #expect(tcp.allowedHosts(extra: ["https://ops.example:2019"]).contains("ops.example:2019"))
    #expect(tcp.allowedOrigins(extra: ["ops.example:2019"]).contains("https://ops.example:2019"))
    #expect(throws: ConfigError.self) { try AdminAddress(parsing: "unix/") }
  }

  @Test func block() throws {
    let global = try adapt("{\n\tadmin localhost:2019 {\n\t\torigins A.example:2019\n\t\tenforce_origin\n\t}\n}\n").global
    #expect(global.admin == "localhost:2019")
    #expect(global.adminOrigins == ["a.example:2019"])
    #expect(global.adminEnforceOrigin)
    #expect(failure("{\n\tadmin garbage\n}\n") == "Caddyfile:2:8: admin address 'garbage' needs a port, e.g. localhost:2019, or a socket, e.g. unix//run/edge.sock")
    #expect(failure("{\n\tadmin {\n\t\torigin x\n\t}\n}\n") == "Caddyfile:3:3: unknown admin option 'origin' (did you mean 'origins'?)")
    #expect(failure("{\n\tadmin {\n\t\tconfig {\n\t\t}\n\t}\n}\n") == "Caddyfile:3:3: admin option 'config' is not supported yet")
    #expect(failure("{\n\tadmin off {\n\t\tenforce_origin\n\t}\n}\n") == "Caddyfile:2:2: 'admin off' takes no options")
  }
}
