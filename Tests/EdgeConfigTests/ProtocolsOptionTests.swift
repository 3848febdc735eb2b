import EdgeConfig
import Testing

/// `servers { protocols h1 h2 h2c }`: which HTTP versions the listeners serve.
@Suite struct ProtocolsOptionTests {
  @Test func defaultIsHTTP1AndHTTP2OverTLS() throws {
    #expect(try adapt("a.test {\n\trespond ok\n}").global.servers.protocols == ["h1", "h2"])
  }

  @Test func readsTheList() throws {
    let servers = try adapt("{\n\tservers {\n\t\tprotocols h1 h2c\n\t}\n}").global.servers
    #expect(servers.protocols == ["h1", "h2c"])
  }

  @Test func survivesJSON() throws {
    let config = try adapt("{\n\tservers {\n\t\tprotocols h1 h2 h2c\n\t}\n}")
    let json = config.jsonString(pretty: false)
    #expect(json.contains(#""protocols":["h1","h2","h2c"]"#))
    #expect(try EdgeConfig(json: json) == config)
  }

  @Test func badValuesSayWhereAndWhy() {
    #expect(failure("{\n\tservers {\n\t\tprotocols h1 h4\n\t}\n}").contains("unknown protocol 'h4'"))
    #expect(failure("{\n\tservers {\n\t\tprotocols h1 h4\n\t}\n}").contains(":3:"))
    #expect(failure("{\n\tservers {\n\t\tprotocols h2\n\t}\n}").contains("must include h1"))
    #expect(failure("{\n\tservers {\n\t\tprotocols h1 h3\n\t}\n}").contains("HTTP/3"))
    #expect(failure("{\n\tservers {\n\t\tprotocols\n\t}\n}").contains("at least one"))
  }
}
