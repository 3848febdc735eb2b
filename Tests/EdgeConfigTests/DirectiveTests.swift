import Testing

@testable import EdgeConfig

func routes(_ body: String) throws(ConfigError) -> [Route] {
  try adapt("example.com {\n\(body)\n}").sites[0].routes
}

func respond(_ route: Route) -> Respond? {
  if case .respond(let r) = route.handler { return r }
  return nil
}

func proxy(_ route: Route) -> ReverseProxy? {
  if case .reverseProxy(let p) = route.handler { return p }
  return nil
}

@Suite struct RespondTests {
  @Test func statusOnly() throws {
    #expect(respond(try routes("respond 404")[0]) == Respond(status: 404))
  }

  @Test func bodyOnly() throws {
    #expect(respond(try routes("respond \"hello world\"")[0]) == Respond(body: "hello world"))
    #expect(respond(try routes("respond 1234")[0]) == Respond(body: "1234"))
  }

  @Test func bodyAndStatus() throws {
    #expect(respond(try routes("respond \"created\" 201")[0]) == Respond(status: 201, body: "created"))
  }

  @Test func withPathMatcher() throws {
    let route = try routes("respond /health \"ok\" 200")[0]
    #expect(route.matcher == RequestMatcher(paths: ["/health"]))
    #expect(respond(route) == Respond(status: 200, body: "ok"))
    #expect(try routes("respond * 204")[0].matcher == nil)
    #expect(respond(try routes("respond \"/not-a-matcher\"")[0])?.body == "/not-a-matcher")
  }

  @Test func blockForm() throws {
    let r = respond(try routes("respond 503 {\n\tbody \"down for maintenance\"\n\tclose\n}")[0])
    #expect(r == Respond(status: 503, body: "down for maintenance", close: true))
  }

  @Test func heredocBody() throws {
    let r = respond(try routes("respond <<TXT\n\tline one\n\tline two\n\tTXT 200")[0])
    #expect(r == Respond(status: 200, body: "line one\nline two"))
  }

  @Test func errors() {
    #expect(failure("a.com {\n\trespond \"x\" abc\n}").hasPrefix("Caddyfile:2:14: 'abc' is not an HTTP status"))
    #expect(failure("a.com {\n\trespond a b c\n}").hasPrefix("Caddyfile:2:14: 'respond' takes"))
    #expect(failure("a.com {\n\trespond x {\n\t\tbody y\n\t}\n}") == "Caddyfile:3:3: respond body is given twice; keep one of them")
    #expect(failure("a.com {\n\trespond @api 200\n}")
      == "Caddyfile:2:10: matcher '@api' is not defined in this site; define it with '@api { … }'")
  }
}

@Suite struct ReverseProxyTests {
  @Test func upstreamForms() throws {
    let p = proxy(try routes("reverse_proxy a:1 http://b:2 localhost:9000 :9001 [::1]:9002 plain")[0])
    #expect(p?.upstreams == [
      Upstream(host: "a", port: 1), Upstream(host: "b", port: 2, scheme: "http"), Upstream(host: "localhost", port: 9000),
      Upstream(host: "localhost", port: 9001), Upstream(host: "::1", port: 9002), Upstream(host: "plain", port: 80),
    ])
    #expect(p?.upstreams[4].description == "[::1]:9002")
  }

  @Test func fullBlock() throws {
    let route = try routes("""
      reverse_proxy /api/* app:8080 {
      	to app2:8080 app3:8080
      	lb_policy round_robin
      	header_up Host {upstream_hostport}
      	header_up +X-Extra yes
      	header_up -X-Secret
      	header_down -Server
      	flush_interval -1
      	stream_idle_timeout 10m
      	stream_timeout 24h
      	transport http {
      		dial_timeout 2s
      		response_header_timeout 30s
      		keepalive off
      		keepalive_idle_conns 8
      	}
      }
      """)[0]
    #expect(route.matcher == RequestMatcher(paths: ["/api/*"]))
    #expect(route.location == SourceLocation(file: "Caddyfile", line: 2, column: 1))
    #expect(proxy(route) == ReverseProxy(
      upstreams: [.init(host: "app", port: 8080), .init(host: "app2", port: 8080), .init(host: "app3", port: 8080)],
      headerUp: [
        .init(kind: .set, name: "Host", value: "{upstream_hostport}"), .init(kind: .add, name: "X-Extra", value: "yes"),
        .init(kind: .delete, name: "X-Secret"),
      ],
      headerDown: [.init(kind: .delete, name: "Server")],
      streamIdleTimeout: .seconds(600), streamTimeout: .seconds(86400),
      transport: HTTPTransport(dialTimeout: .seconds(2), responseHeaderTimeout: .seconds(30), keepAlive: nil, keepAliveIdleConns: 8)))
  }

  @Test func keepaliveDuration() throws {
    let p = proxy(try routes("reverse_proxy a:1 {\n\ttransport http {\n\t\tkeepalive 2m\n\t}\n}")[0])
    #expect(p?.transport.keepAlive == .seconds(120))
  }

  @Test func errors() {
    #expect(failure("a.com {\n\treverse_proxy\n}")
      == "Caddyfile:2:2: reverse_proxy needs at least one upstream; write it after the directive or in a 'to' line")
    #expect(failure("a.com {\n\treverse_proxy x:99999\n}").hasPrefix("Caddyfile:2:16: invalid port '99999'"))
    #expect(failure("a.com {\n\treverse_proxy x:1 {\n\t\tlb_retry_match {\n\t\t\tmethod POST\n\t\t}\n\t}\n}")
      == "Caddyfile:3:3: reverse_proxy option 'lb_retry_match' is not supported yet")
    #expect(failure("a.com {\n\treverse_proxy x:1 {\n\t\theader_upp Host x\n\t}\n}")
      == "Caddyfile:3:3: unknown reverse_proxy option 'header_upp' (did you mean 'header_up'?)")
    #expect(failure("a.com {\n\treverse_proxy x:1 {\n\t\ttransport fastcgi\n\t}\n}").contains("transport 'fastcgi' is not supported yet"))
  }
}

@Suite struct RequestBodyTests {
  @Test func maxSize() throws {
    let route = try routes("request_body /upload/* {\n\tmax_size 10MB\n}")[0]
    #expect(route.matcher == RequestMatcher(paths: ["/upload/*"]))
    #expect(route.handler == .requestBody(RequestBody(maxSize: 10_000_000)))
  }

  @Test func unknownOption() {
    #expect(failure("a.com {\n\trequest_body {\n\t\tmax_sise 1MB\n\t}\n}")
      == "Caddyfile:3:3: unknown request_body option 'max_sise' (did you mean 'max_size'?)")
  }
}

@Suite struct DirectiveNameTests {
  @Test func notSupportedYet() {
    for name in ["templates", "forward_auth auth:9000", "php_fastcgi x:9000"] {
      let directive = String(name.split(separator: " ")[0])
      #expect(failure("a.com {\n\t\(name)\n}") == "Caddyfile:2:2: directive '\(directive)' is not supported yet")
    }
  }

  @Test func didYouMean() {
    #expect(failure("a.com {\n\trevers_proxy x:1\n}")
      == "Caddyfile:2:2: unknown directive 'revers_proxy' (did you mean 'reverse_proxy'?)")
    #expect(failure("a.com {\n\trespnd 200\n}") == "Caddyfile:2:2: unknown directive 'respnd' (did you mean 'respond'?)")
    #expect(failure("a.com {\n\tcompletely_else\n}") == "Caddyfile:2:2: unknown directive 'completely_else'")
  }

  @Test func editDistance() {
    #expect(DirectiveCatalog.editDistance("kitten", "sitting") == 3)
    #expect(DirectiveCatalog.editDistance("", "abc") == 3)
    #expect(DirectiveCatalog.editDistance("same", "same") == 0)
  }
}

@Suite struct RouteOrderTests {
  @Test func sortsLikeCaddy() throws {
    let sorted = try routes("""
      reverse_proxy fallback:1
      respond /a* "a-prefix"
      reverse_proxy /api/* api:1
      respond "catch-all"
      respond /a "a-exact"
      request_body {
      	max_size 1MB
      }
      respond /longer/path "longer"
      reverse_proxy /api/v1/* v1:1
      """)
    let labels = sorted.map { route -> String in
      switch route.handler {
      case .requestBody: "body"
      case .headers, .root, .fileServer, .group, .redirect, .rewrite, .route, .abort, .error, .tryFiles, .encode, .basicAuth, .metrics: "other"
      case .respond(let r): r.body
      case .reverseProxy(let p): p.upstreams[0].host
      }
    }
    #expect(labels == ["body", "longer", "a-exact", "a-prefix", "catch-all", "v1", "api", "fallback"])
  }

  @Test func keepsWrittenOrderOtherwise() throws {
    let sorted = try routes("respond /b 200\nrespond /a 201\nrespond 202\nrespond 203")
    #expect(sorted.map { respond($0)!.status } == [200, 201, 202, 203])
  }
}

@Suite struct HeaderDirectiveTests {
  func operations(_ body: String) throws -> [HeaderOperation] {
    guard case .headers(let h) = try routes(body)[0].handler else { return [] }
    return h.operations
  }

  @Test func forms() throws {
    #expect(try operations("header Strict-Transport-Security \"max-age=63072000\"")
      == [HeaderOperation(kind: .set, name: "Strict-Transport-Security", value: "max-age=63072000")])
    #expect(try operations("header {\n\t\t-Server\n\t\t+Link a\n\t\t?Cache-Control no-cache\n\t\t>X-Late yes\n\t}") == [
      HeaderOperation(kind: .delete, name: "Server"), HeaderOperation(kind: .add, name: "Link", value: "a"),
      HeaderOperation(kind: .setDefault, name: "Cache-Control", value: "no-cache"),
      HeaderOperation(kind: .set, name: "X-Late", value: "yes"),
    ])
    let scoped = try routes("header /api/* X-Api yes")[0]
    #expect(scoped.matcher == RequestMatcher(paths: ["/api/*"]))
  }

  @Test("header routes run before the terminal handler, whatever the written order")
  func order() throws {
    let sorted = try routes("respond hi\nheader X-A b")
    guard case .headers = sorted[0].handler else {
      Issue.record("header is not first: \(sorted)")
      return
    }
  }

  @Test func errors() {
    #expect(failure("a.com {\n\theader\n}") == "Caddyfile:2:2: 'header' needs an operation: 'header Name value', '+Name value', '-Name' or '?Name value'")
    #expect(failure("a.com {\n\theader X-A\n}") == "Caddyfile:2:9: 'header X-A' needs a value; write 'header X-A value'")
    #expect(failure("a.com {\n\theader X-A a b\n}") == "Caddyfile:2:13: 'header' search and replace is not supported yet")
    #expect(failure("a.com {\n\theader -X-A b\n}") == "Caddyfile:2:9: 'header -Name' deletes a header and takes no value; write 'header -Name'")
  }

  /// What `validate` (run on every config before it is used) says of an adapted Caddyfile.
  func invalid(_ text: String) -> String {
    do {
      try adapt(text).validate()
      return "no error"
    } catch {
      return error.description
    }
  }

  @Test("values that would break the head, and framing fields, are refused with the site's position")
  func validation() {
    #expect(invalid("a.com {\n\theader X-A \"a\nb\"\n}") == "Caddyfile:2:2: the value of header 'X-A' contains a line break or NUL")
    #expect(invalid("a.com {\n\theader \"X A\" b\n}") == "Caddyfile:2:2: header name 'X A' is not a valid field name (letters, digits and !#$%&'*+-.^_`|~)")
    #expect(invalid("a.com {\n\theader Transfer-Encoding chunked\n}") == "Caddyfile:2:2: 'header' cannot change 'Transfer-Encoding': edge sets the framing of every response itself")
    #expect(invalid("a.com {\n\treverse_proxy x:1 {\n\t\theader_down X-A \"a\rb\"\n\t}\n}").hasSuffix("the value of header 'X-A' contains a line break or NUL"))
  }

  @Test("JSON round trip") func json() throws {
    let config = try adapt("a.com {\n\theader /x/* {\n\t\t?A b\n\t\t-C\n\t}\n\trespond 204\n}")
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
  }
}
