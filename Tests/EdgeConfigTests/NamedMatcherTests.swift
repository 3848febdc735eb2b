import EdgeConfig
import Testing

@Suite struct NamedMatcherTests {
  @Test func blockAndLineForms() throws {
    let site = try adapt("""
      a.test {
      	@api {
      		path /api/* /v2/*
      		method get post
      		header Authorization
      		header X-Kind a b*
      		query debug=1
      		protocol https
      		client_ip 10.0.0.0/8 ::1
      		not path /api/private/*
      	}
      	@static path *.css *.js
      	reverse_proxy @api app:1
      	header @static Cache-Control max-age=3600
      }
      """).sites[0]
    let api = try #require(site.routes.first { if case .reverseProxy = $0.handler { true } else { false } }?.matcher)
    #expect(api.name == "@api")
    #expect(api.paths == ["/api/*", "/v2/*"])
    #expect(api.methods == ["GET", "POST"])
    #expect(api.headers == ["authorization": [], "x-kind": ["a", "b*"]])
    #expect(api.query == ["debug": ["1"]])
    #expect(api.protocols == ["https"])
    #expect(api.clientIPs == ["10.0.0.0/8", "::1"])
    #expect(api.not?.first?.paths == ["/api/private/*"])
    let statics = try #require(site.routes.first { if case .headers = $0.handler { true } else { false } }?.matcher)
    #expect(statics.paths == ["*.css", "*.js"])
  }

  @Test func errors() {
    #expect(failure("a.test {\n\trespond @nope 404\n}") == "Caddyfile:2:10: matcher '@nope' is not defined in this site; define it with '@nope { … }'")
    #expect(failure("a.test {\n\t@m {\n\t\texpression {method} == \"GET\"\n\t}\n}") == "Caddyfile:3:3: matcher 'expression' is not supported yet")
    #expect(failure("a.test {\n\t@m {\n\t\tmethd GET\n\t}\n}") == "Caddyfile:3:3: unknown matcher 'methd' (did you mean 'method'?)")
    #expect(failure("a.test {\n\t@m query debug\n}") == "Caddyfile:2:11: query matcher 'debug' needs key=value")
    #expect(failure("a.test {\n\t@m path\n}") == "Caddyfile:2:5: matcher 'path' needs at least one value")
    #expect(failure("a.test {\n\t@m method GET\n\t@m method POST\n}") == "Caddyfile:3:2: matcher '@m' is defined twice in this site")
  }

  @Test func badClientIPIsAValidationError() throws {
    let config = try adapt("a.test {\n\t@m client_ip 10.0.0.0/33\n\trespond @m 403\n}")
    #expect(throws: ConfigError.self) { try config.validate() }
  }

  @Test("JSON round trip") func json() throws {
    let config = try adapt("a.test {\n\t@m {\n\t\tmethod GET\n\t\tnot header X-A\n\t}\n\trespond @m 204\n}")
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
  }

  @Test func ipRanges() {
    #expect(IPRange("10.0.0.0/8")?.contains("10.1.2.3") == true)
    #expect(IPRange("10.0.0.0/8")?.contains("11.0.0.1") == false)
    #expect(IPRange("192.0.2.1")?.contains("192.0.2.1") == true)
    #expect(IPRange("2001:db8::/32")?.contains("2001:db8:1::5") == true)
    #expect(IPRange("2001:db8::/32")?.contains("10.0.0.1") == false)
    #expect(IPRange("10.0.0.0/33") == nil)
    #expect(IPRange("nonsense") == nil)
  }
}

@Suite struct RegexMatcherTests {
  @Test func formsAndCaptureNames() throws {
    let site = try adapt("""
      a.test {
      	@user path_regexp ^/users/(?<id>[0-9]+)$
      	@named {
      		path_regexp ver ^/v([0-9])/
      		header_regexp Cookie session=([a-f0-9]+)
      		header_regexp tok Authorization "^Bearer (.+)$"
      	}
      	respond @user "{re.user.id}"
      	respond @named "{re.ver.1}"
      }
      """).sites[0]
    let matchers = site.routes.compactMap(\.matcher)
    #expect(matchers[0].pathRegexps == [RegexCondition(name: "user", pattern: "^/users/(?<id>[0-9]+)$")])
    #expect(matchers[1].pathRegexps == [RegexCondition(name: "ver", pattern: "^/v([0-9])/")])
    #expect(matchers[1].headerRegexps == [
      RegexCondition(name: "named", field: "Cookie", pattern: "session=([a-f0-9]+)"),
      RegexCondition(name: "tok", field: "Authorization", pattern: "^Bearer (.+)$"),
    ])
    #expect(!matchers[0].isPathOnly)
  }

  @Test func errors() {
    #expect(failure("a.test {\n\t@m path_regexp ^/(a\n\trespond @m x\n}") == "Caddyfile:2:17: path_regexp '^/(a': invalid regular expression at offset 4: missing closing parenthesis")
    #expect(failure("a.test {\n\t@m header_regexp Cookie\n\trespond @m x\n}") == "Caddyfile:2:5: header_regexp needs a field and a pattern: header_regexp [<name>] <field> <pattern>")
    #expect(failure("a.test {\n\t@m path_regexp a b c\n\trespond @m x\n}") == "Caddyfile:2:21: unexpected 'c': path_regexp takes [<name>] <pattern>")
    #expect(failure("a.test {\n\t@m path_regex ^/a\n\trespond @m x\n}") == "Caddyfile:2:5: unknown matcher 'path_regex' (did you mean 'path_regexp'?)")
  }

  @Test func jsonPatternsAreCompiledByValidation() throws {
    var config = try adapt("a.test {\n\t@m path_regexp ^/a\n\trespond @m x\n}")
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
    config.sites[0].routes[0].matcher?.pathRegexps = [RegexCondition(name: "m", pattern: "(")]
    #expect(throws: ConfigError.self) { try config.validate() }
  }
}
