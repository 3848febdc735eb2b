import Foundation
import Testing

@testable import EdgeMetrics

/// The registry is one per process, so each test uses a site or upstream name of its own.
@Suite("EdgeMetrics")
struct EdgeMetricsTests {
  private func text() -> String { String(decoding: EdgeMetrics.exposition(), as: UTF8.self) }

  private func sample(_ line: String) -> Double? {
    text().split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { Double($0.split(separator: " ").last!) }
  }

  @Test("a site's requests are counted per handler, method and code, with latency and bytes")
  func siteSeries() {
    let meter = SiteMeter(site: "unit.test")
    for _ in 0..<3 {
      meter.record(handler: .reverseProxy, method: "GET", status: 200, seconds: 0.002, bytesIn: 0, bytesOut: 10)
    }
    meter.record(handler: .reverseProxy, method: "GET", status: 502, seconds: 2, bytesIn: 5, bytesOut: 0)
    let labels = #"site="unit.test",handler="reverse_proxy",method="GET",code="200""#
    #expect(sample("edge_http_requests_total{\(labels)}") == 3)
    #expect(sample("edge_http_request_duration_seconds_bucket{\(labels),le=\"0.001\"}") == 0)
    #expect(sample("edge_http_request_duration_seconds_bucket{\(labels),le=\"0.0025\"}") == 3)
    #expect(sample("edge_http_request_duration_seconds_count{\(labels)}") == 3)
    #expect(sample(#"edge_http_requests_total{site="unit.test",handler="reverse_proxy",method="GET",code="502"}"#) == 1)
    #expect(sample(#"edge_http_response_body_bytes_total{site="unit.test"}"#) == 30)
    #expect(sample(#"edge_http_request_body_bytes_total{site="unit.test"}"#) == 5)
  }

  @Test("methods outside the registered ones share one OTHER series")
  func methodsAreBounded() {
    let meter = SiteMeter(site: "methods.test")
    for method in ["BREW", "PROPFIND", "get", String(repeating: "X", count: 100)] {
      meter.record(handler: .staticResponse, method: method, status: 200, seconds: 0, bytesIn: 0, bytesOut: 0)
    }
    meter.record(handler: .staticResponse, method: "PATCH", status: 200, seconds: 0, bytesIn: 0, bytesOut: 0)
    #expect(sample(#"edge_http_requests_total{site="methods.test",handler="static_response",method="OTHER",code="200"}"#) == 4)
    #expect(sample(#"edge_http_requests_total{site="methods.test",handler="static_response",method="PATCH",code="200"}"#) == 1)
    #expect(!text().contains("BREW"))
  }

  @Test("a site name with quotes and backslashes is escaped in the label value")
  func labelEscaping() {
    let meter = SiteMeter(site: #"a"b\c"#)
    meter.record(handler: .other, method: "GET", status: 404, seconds: 0, bytesIn: 0, bytesOut: 0)
    #expect(text().contains(#"site="a\"b\\c""#))
  }

  @Test("handshake failures are counted by alert, one series per alert number")
  func alerts() {
    let before = sample(#"edge_tls_handshake_failures_total{alert="bad_certificate"}"#) ?? 0
    HandshakeMeter.failed(alert: 42, name: "bad_certificate")
    HandshakeMeter.failed(alert: 42, name: "ignored: the series for 42 exists")
    HandshakeMeter.failed(alert: nil, name: "ignored: no alert is none")
    #expect(sample(#"edge_tls_handshake_failures_total{alert="bad_certificate"}"#) == before + 2)
    #expect((sample(#"edge_tls_handshake_failures_total{alert="none"}"#) ?? 0) >= 1)
  }

  @Test("upstream series: requests, in flight, failures, response-head latency")
  func upstream() {
    let meter = UpstreamMeter(upstream: "10.9.9.9:1")
    meter.began()
    meter.began()
    meter.ended()
    meter.failed()
    meter.responseHead(after: 0.03)
    #expect(sample(#"edge_upstream_requests_total{upstream="10.9.9.9:1"}"#) == 2)
    #expect(sample(#"edge_upstream_requests_active{upstream="10.9.9.9:1"}"#) == 1)
    #expect(sample(#"edge_upstream_failures_total{upstream="10.9.9.9:1"}"#) == 1)
    #expect(sample(#"edge_upstream_response_header_seconds_bucket{upstream="10.9.9.9:1",le="0.05"}"#) == 1)
  }

  @Test("collectors run before each rendering; process series are read from /proc")
  func collectorsAndProcess() {
    let gauge = Family("edge_unit_collected", "A gauge set by a unit test's collector.").gauge()
    let runs = Counting()
    EdgeMetrics.setCollector("unit") {
      runs.add()
      gauge.set(Double(runs.value))
    }
    defer { EdgeMetrics.removeCollector("unit") }
    _ = text()
    #expect(sample("edge_unit_collected") == 2)
    #expect((sample("process_resident_memory_bytes") ?? 0) > 1_000_000)
    #expect((sample("process_open_fds") ?? 0) > 2)
    let start = ProcessMetrics.startTime
    #expect(start <= Date().timeIntervalSince1970 && start > Date().timeIntervalSince1970 - 86400)
  }
}

final class Counting: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func add() { lock.withLock { count += 1 } }
  var value: Int { lock.withLock { count } }
}
