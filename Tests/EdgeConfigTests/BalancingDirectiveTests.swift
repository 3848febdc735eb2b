import Testing

@testable import EdgeConfig

/// `lb_policy`, `lb_*` retries and the health-check lines of `reverse_proxy`.
@Suite struct BalancingDirectiveTests {
  func balancing(_ lines: String, upstreams: String = "a:1 b:2 c:3") throws -> ReverseProxy? {
    proxy(try routes("reverse_proxy \(upstreams) {\n\(lines)\n}")[0])
  }

  @Test(
    "each policy with its arguments",
    arguments: [
      ("lb_policy random", SelectionPolicy(.random)),
      ("lb_policy random_choose 3", SelectionPolicy(.randomChoose, choose: 3)),
      ("lb_policy round_robin", SelectionPolicy(.roundRobin)),
      ("lb_policy weighted_round_robin 3 1 0", SelectionPolicy(.weightedRoundRobin, weights: [3, 1, 0])),
      ("lb_policy least_conn", SelectionPolicy(.leastConn)),
      ("lb_policy ip_hash", SelectionPolicy(.ipHash)),
      ("lb_policy client_ip_hash", SelectionPolicy(.clientIPHash)),
      ("lb_policy first", SelectionPolicy(.first)),
      ("lb_policy uri_hash", SelectionPolicy(.uriHash)),
      ("lb_policy query user", SelectionPolicy(.query, key: "user")),
      ("lb_policy header X-Tenant {\n\tfallback first\n}", SelectionPolicy(.header, key: "X-Tenant", fallback: .first)),
      ("lb_policy cookie", SelectionPolicy(.cookie)),
      ("lb_policy cookie srv s3cret {\n\tmax_age 1h\n\tfallback least_conn\n}",
        SelectionPolicy(.cookie, key: "srv", secret: "s3cret", maxAge: .seconds(3600), fallback: .leastConn)),
    ])
  func policies(_ line: String, _ expected: SelectionPolicy) throws {
    let p = try balancing(line)
    #expect(p?.loadBalancing.selection == expected)
    try p?.loadBalancing.validate(upstreams: 3, at: nil)
  }

  @Test func retries() throws {
    let p = try balancing("lb_try_duration 5s\nlb_try_interval 100ms\nlb_retries 4")
    #expect(p?.loadBalancing == LoadBalancing(tryDuration: .seconds(5), tryInterval: .milliseconds(100), retries: 4))
    #expect(p?.loadBalancing.retriesLater == true)
    #expect(try balancing("lb_policy first")?.loadBalancing.retriesLater == false)
  }

  @Test func activeAndPassiveChecks() throws {
    let p = try balancing("""
      health_uri /healthz?full=1
      health_port 9000
      health_interval 200ms
      health_timeout 1s
      health_status 2xx 301
      health_body "^ok"
      health_headers {
      	Host status.internal
      	X-Probe a b
      }
      health_method HEAD
      health_passes 2
      health_fails 3
      fail_duration 30s
      max_fails 2
      unhealthy_status 5xx 429
      unhealthy_latency 2s
      unhealthy_request_count 100
      """)
    #expect(p?.healthChecks.active == ActiveHealthCheck(
      uri: "/healthz?full=1", port: 9000, interval: .milliseconds(200), timeout: .seconds(1), statuses: ["2xx", "301"],
      body: "^ok",
      headers: [.init(name: "Host", value: "status.internal"), .init(name: "X-Probe", value: "a"), .init(name: "X-Probe", value: "b")],
      method: "HEAD", passes: 2, fails: 3))
    #expect(p?.healthChecks.passive == PassiveHealthCheck(
      failDuration: .seconds(30), maxFails: 2, unhealthyStatus: ["5xx", "429"], unhealthyLatency: .seconds(2),
      unhealthyRequestCount: 100))
    #expect(try balancing("health_path /up")?.healthChecks.active == ActiveHealthCheck(uri: "/up"))
    #expect(try balancing("health_port 81")?.healthChecks.active == ActiveHealthCheck(port: 81))
    #expect(try balancing("lb_policy first")?.healthChecks.isEmpty == true)
  }

  @Test("errors point at the offending token", arguments: [
    ("lb_policy", "Caddyfile:3:1: 'lb_policy' needs a policy, e.g. round_robin, least_conn or ip_hash"),
    ("lb_policy least_con", "Caddyfile:3:11: unknown lb_policy 'least_con' (did you mean 'least_conn'?); edge has random, random_choose, round_robin, weighted_round_robin, least_conn, ip_hash, client_ip_hash, first, uri_hash, query, header, cookie"),
    ("lb_policy weighted_round_robin 3 1", "Caddyfile:3:1: weighted_round_robin has 2 weights for 3 upstreams; give one weight per upstream, in order"),
    ("lb_policy weighted_round_robin 3 x 1", "Caddyfile:3:34: 'x' is not a weight; write a whole number from 0 up"),
    ("lb_policy weighted_round_robin 0 0 0", "Caddyfile:3:11: weighted_round_robin needs at least one positive weight"),
    ("lb_policy random_choose 1", "Caddyfile:3:25: random_choose draws at least 2 upstreams; '1' is not a whole number from 2 up"),
    ("lb_policy round_robin 2", "Caddyfile:3:23: lb_policy round_robin takes no arguments; remove '2'"),
    ("lb_policy query", "Caddyfile:3:11: lb_policy query needs the query parameter to hash, e.g. 'lb_policy query user'"),
    ("lb_policy cookie a b c", "Caddyfile:3:22: lb_policy cookie takes at most 2 arguments; remove 'c'"),
    ("lb_policy header X {\n\tfallback cookie\n}", "Caddyfile:4:11: fallback 'cookie': use random, round_robin, least_conn, first, ip_hash, client_ip_hash or uri_hash"),
    ("lb_policy first {\n\tfallback random\n}", "Caddyfile:4:2: lb_policy first takes no block; remove the '{ … }'"),
    ("lb_try_duration soon", "Caddyfile:3:17: 'soon' is not a duration; write e.g. 500ms, 10s, 5m, 1h or 1m30s"),
    ("lb_retries -1", "Caddyfile:3:12: 'lb_retries' must be at least 0 (got -1)"),
    ("health_uri healthz", "Caddyfile:3:12: 'health_uri' must be a path starting with '/', e.g. /healthz"),
    ("health_port 70000", "Caddyfile:3:13: 'health_port' 70000 is outside 1–65535; use a port number from 1 to 65535"),
    ("health_uri /h\nhealth_status 2x0", "Caddyfile:4:15: '2x0' is not a status code (100–599) or class (2xx)"),
    ("health_uri /h\nhealth_body \"(\"", "Caddyfile:4:13: health_body: invalid regular expression at offset 1: missing closing parenthesis"),
    ("health_interval 1s", "Caddyfile:3:1: 'health_interval' needs health_uri or health_port, which turn active health checks on"),
    ("health_uri /h\nhealth_fails 0", "Caddyfile:4:14: 'health_fails' must be at least 1 (got 0)"),
    ("max_fails 3", "Caddyfile:3:1: 'max_fails' counts failures, which are remembered only with fail_duration; add e.g. 'fail_duration 30s'"),
    ("fail_duration 10s\nunhealthy_status 600", "Caddyfile:4:18: '600' is not a status code (100–599) or class (2xx)"),
    ("health_uri /h\nhealth_headers {\n\tBad:Name x\n}", "Caddyfile:5:2: 'Bad:Name' is not a field name (letters, digits and !#$%&'*+-.^_`|~)"),
  ])
  func errors(_ lines: String, _ message: String) {
    #expect(failure("a.com {\n\treverse_proxy a:1 b:2 c:3 {\n\(lines)\n\t}\n}") == message)
  }

  @Test func jsonRoundTrip() throws {
    let config = try adapt("""
      :8080 {
      	reverse_proxy a:1 b:2 {
      		lb_policy cookie srv key {
      			max_age 10m
      		}
      		lb_try_duration 2s
      		lb_retries 3
      		health_uri /up
      		health_interval 300ms
      		health_headers {
      			Host probe.test
      		}
      		fail_duration 5s
      		unhealthy_status 503
      		unhealthy_request_count 10
      	}
      	reverse_proxy /w/* a:1 b:2 {
      		lb_policy weighted_round_robin 2 1
      	}
      }
      """)
    let json = try config.jsonString(pretty: true)
    #expect(try EdgeConfig(json: json) == config)
    #expect(json.contains(#""policy" : "cookie""#) || json.contains(#""policy": "cookie""#))
  }

  @Test func olderJSONWithAPolicyName() throws {
    let json = #"{"version":1,"global":{},"sites":[{"addresses":[{"original":":80","port":80}],"routes":[{"handler":{"reverseProxy":{"upstreams":[{"host":"a","port":1}],"loadBalancing":"least_conn"}}}]}]}"#
    let config = try EdgeConfig(json: json)
    guard case .reverseProxy(let p) = config.sites[0].routes[0].handler else { Issue.record("not a proxy"); return }
    #expect(p.loadBalancing.selection.kind == .leastConn)
  }

  @Test("JSON is validated like the Caddyfile", arguments: [
    (#"{"policy":"weighted_round_robin","weights":[1]}"#, "lb_policy weighted_round_robin: 1 weight for 2 upstreams; give one weight per upstream, in order"),
    (#"{"policy":"query"}"#, "lb_policy query: needs the query parameter to hash, e.g. 'lb_policy query user'"),
    (#"{"policy":"first","fallback":"random"}"#, "lb_policy first: only query, header and cookie take a fallback policy"),
    (#"{"policy":"random_choose","choose":1}"#, "lb_policy random_choose: must choose at least 2 upstreams (got 1)"),
  ])
  func jsonValidation(_ balancing: String, _ message: String) throws {
    let json = #"{"version":1,"global":{},"sites":[{"addresses":[{"original":":80","port":80}],"routes":[{"handler":{"reverseProxy":{"upstreams":[{"host":"a","port":1},{"host":"b","port":2}],"loadBalancing":"# + balancing + "}}}]}]}"
    let config = try EdgeConfig(json: json)
    do {
      try config.validate()
      Issue.record("no error")
    } catch {
      #expect(error.message == message)
    }
  }

  @Test func passiveOptionsNeedAFailDurationInJSON() throws {
    var proxy = ReverseProxy(upstreams: [Upstream(host: "a", port: 1)])
    proxy.healthChecks.passive.unhealthyStatus = ["5xx"]
    #expect(throws: ConfigError.self) { try proxy.validate(at: nil) }
    proxy.healthChecks.passive.failDuration = .seconds(1)
    try proxy.validate(at: nil)
  }
}
