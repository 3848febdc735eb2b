import EdgeConfig
import Testing

/// `servers { max_connections … min_body_rate … }` (docs/limits.md).
@Suite struct ConnectionLimitTests {
  @Test func defaultsLeaveTheLimitToTheNode() throws {
    let servers = try adapt("a.test {\n\trespond ok\n}").global.servers
    #expect(servers.maxConnections == nil)  // the node derives it from its open-file limit
    #expect(servers.minBodyRate == 1000)
  }

  @Test func readsBoth() throws {
    let servers = try adapt("{\n\tservers {\n\t\tmax_connections 5000\n\t\tmin_body_rate 4KiB\n\t}\n}").global.servers
    #expect(servers.maxConnections == 5000)
    #expect(servers.minBodyRate == 4096)
  }

  @Test func zeroRateTurnsTheRateOff() throws {
    #expect(try adapt("{\n\tservers {\n\t\tmin_body_rate 0\n\t}\n}").global.servers.minBodyRate == 0)
  }

  @Test func survivesJSON() throws {
    let config = try adapt("{\n\tservers {\n\t\tmax_connections 7\n\t}\n}")
    let json = config.jsonString(pretty: false)
    #expect(json.contains(#""maxConnections":7"#))
    #expect(try EdgeConfig(json: json) == config)
    let without = try adapt("a.test {\n\trespond ok\n}").jsonString(pretty: false)
    #expect(!without.contains("maxConnections"))
    #expect(try EdgeConfig(json: without).global.servers.maxConnections == nil)
  }

  @Test func badValues() {
    #expect(failure("{\n\tservers {\n\t\tmax_connections 0\n\t}\n}").contains("'max_connections' must be at least 1"))
    #expect(failure("{\n\tservers {\n\t\tmax_connections many\n\t}\n}").contains("not a whole number"))
    #expect(failure("{\n\tservers {\n\t\tmin_body_rate fast\n\t}\n}").contains("is not a size"))
    #expect(failure("{\n\tservers {\n\t\tmax_conections 5\n\t}\n}").contains("did you mean 'max_connections'"))
  }

  @Test func proxyHeaderRulesCannotTouchFraming() {
    for (rule, name) in [("header_up Content-Length 5", "Content-Length"), ("header_down -Transfer-Encoding", "Transfer-Encoding")] {
      let text = "a.test {\n\treverse_proxy app:1 {\n\t\t\(rule)\n\t}\n}"
      #expect(throws: ConfigError.self) { try adapt(text).validate() }
      do {
        try adapt(text).validate()
      } catch {
        #expect(error.description.contains("cannot change '\(name)'"), "\(error)")
      }
    }
  }
}
