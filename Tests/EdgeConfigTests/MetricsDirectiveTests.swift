import Foundation
import Testing

@testable import EdgeConfig

@Suite struct MetricsDirectiveTests {
  @Test func handlerWithMatcherAndCaddysOption() throws {
    let route = try routes("metrics /metrics {\n\tdisable_openmetrics\n}")[0]
    #expect(route.handler == .metrics)
    #expect(route.matcher == RequestMatcher(paths: ["/metrics"]))
    #expect(try routes("metrics")[0].matcher == nil)
  }

  @Test func handlerRefusesUnknownOptionsAndArguments() {
    #expect(throws: ConfigError.self) { try routes("metrics /metrics {\n\tper_host\n}") }
    #expect(throws: ConfigError.self) { try routes("metrics /metrics extra") }
  }

  @Test func sortsAfterRespondAndBeforeReverseProxy() throws {
    let order = try routes("reverse_proxy 127.0.0.1:9\nmetrics /m\nrespond /r 204").map { route -> String in
      switch route.handler {
      case .respond: "respond"
      case .metrics: "metrics"
      case .reverseProxy: "reverse_proxy"
      default: "other"
      }
    }
    #expect(order == ["respond", "metrics", "reverse_proxy"])
  }

  @Test func globalOptionTurnsRequestSeriesOffAndOn() throws {
    #expect(try adapt("example.com {\n}").global.requestMetrics)
    #expect(try adapt("{\n\tmetrics\n}\nexample.com {\n}").global.requestMetrics)
    #expect(try adapt("{\n\tmetrics {\n\t\tper_host\n\t}\n}\nexample.com {\n}").global.requestMetrics)
    let off = try adapt("{\n\tmetrics off\n}\nexample.com {\n}")
    #expect(!off.global.requestMetrics)
    #expect(throws: ConfigError.self) { try adapt("{\n\tmetrics maybe\n}\nexample.com {\n}") }
    // JSON: written only when off, read back the same.
    let json = off.jsonString(pretty: false)
    #expect(json.contains("\"requestMetrics\":false"))
    #expect(try EdgeConfig(json: json, file: "t").global.requestMetrics == false)
    #expect(!(try adapt("example.com {\n\tmetrics\n}").jsonString(pretty: false).contains("requestMetrics")))
  }
}
