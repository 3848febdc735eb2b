import Foundation
import Testing

@testable import EdgeACME

@Suite("transport: URLs, framing, keep-alive, timeouts, header parsing")
struct TransportTests {
  @Test("URLs split into host, port, target and Host field", arguments: [
    ("https://ca.test/dir", "ca.test", 443, "/dir", "ca.test"),
    ("https://CA.test:14000", "ca.test", 14000, "/", "ca.test:14000"),
    ("http://[::1]:8080/a?b=c#frag", "::1", 8080, "/a?b=c", "[::1]:8080"),
    ("https://127.0.0.1:1/x/y?z", "127.0.0.1", 1, "/x/y?z", "127.0.0.1:1"),
  ])
  func endpoints(_ url: String, _ host: String, _ port: Int, _ target: String, _ hostField: String) throws {
    let endpoint = try HTTPEndpoint(url)
    #expect(endpoint.host == host && endpoint.port == port && endpoint.target == target && endpoint.hostField == hostField)
  }

  @Test("bad URLs are refused", arguments: [
    "ftp://a/", "https://", "https://a:99999/", "https://user@a/", "https://[::1/", "https://a/x y", "https://a/\r\nX: y",
  ])
  func badEndpoints(_ url: String) {
    #expect(throws: ACMEError.self) { try HTTPEndpoint(url) }
  }

  @Test("relative references resolve against the request URL")
  func resolve() throws {
    let endpoint = try HTTPEndpoint("https://ca.test:8443/acme/cert/1")
    #expect(endpoint.resolve("/acme/cert/1/2") == "https://ca.test:8443/acme/cert/1/2")
    #expect(endpoint.resolve("2") == "https://ca.test:8443/acme/cert/2")
    #expect(endpoint.resolve("https://other.test/x") == "https://other.test/x")
  }

  @Test("Link: alternates from several fields and several links per field")
  func linkHeader() {
    let fields = [
      #"<https://ca.test/cert/1/1>;rel="alternate", <https://ca.test/dir>;rel="index""#,
      #"<https://ca.test/cert/1/2>; rel=alternate"#, #"<https://ca.test/issuer>;rel="up""#,
    ]
    #expect(LinkHeader.targets(fields, relation: "alternate") { $0 } == ["https://ca.test/cert/1/1", "https://ca.test/cert/1/2"])
    #expect(LinkHeader.targets(fields, relation: "up") { $0 } == ["https://ca.test/issuer"])
  }

  @Test("Retry-After: seconds, an HTTP-date, garbage")
  func retryAfter() {
    #expect(RetryAfter.parse("120") == .seconds(120))
    let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
    #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:50:37 GMT", now: now) == .seconds(60))
    #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:40:37 GMT", now: now) == .zero)
    #expect(RetryAfter.parse("soon") == nil)
    #expect(RetryAfter.parse(nil) == nil)
  }

  @Test("plain http is refused unless allowed")
  func refusesPlainHTTP() async throws {
    let transport = try ACMEHTTPSTransport()
    let error = await #expect(throws: ACMEError.self) {
      _ = try await transport.send(ACMEHTTPRequest(method: "GET", url: "http://127.0.0.1:1/"))
    }
    #expect(error?.kind == .invalidInput)
  }

  @Test("chunked and Content-Length bodies, repeated headers, and one kept-alive connection for three requests")
  func framingAndKeepAlive() async throws {
    let server = try TestHTTPServer { request in
      switch request.path {
      case "/chunked":
        return TestHTTPServer.Reply(
          headers: [("Link", "<https://a/1>;rel=\"alternate\""), ("link", "<https://a/2>;rel=\"alternate\"")],
          body: Array("a chunked body of some length".utf8), chunked: true)
      case "/echo":
        return .text("\(request.method) \(request.body.count) \(request.headers["user-agent"] ?? "-")")
      default:
        return .text("missing", status: 404)
      }
    }
    defer { server.stop() }
    var configuration = ACMEHTTPSTransport.Configuration()
    configuration.allowInsecureHTTP = true
    let transport = try ACMEHTTPSTransport(configuration: configuration)
    let base = "http://127.0.0.1:\(server.port)"

    let chunked = try await transport.send(ACMEHTTPRequest(method: "GET", url: "\(base)/chunked"))
    #expect(String(decoding: chunked.body, as: UTF8.self) == "a chunked body of some length")
    #expect(chunked.headers.values("LINK").count == 2)
    let echo = try await transport.send(ACMEHTTPRequest(method: "POST", url: "\(base)/echo", body: Array("12345".utf8)))
    #expect(String(decoding: echo.body, as: UTF8.self) == "POST 5 edge-acme/1")
    let missing = try await transport.send(ACMEHTTPRequest(method: "HEAD", url: "\(base)/nothing"))
    #expect(missing.status == 404 && missing.body.isEmpty)
    #expect(server.connectionCount == 1)
  }

  @Test("a server that does not answer in time is a transport error, not a hang")
  func requestTimeout() async throws {
    let server = try TestHTTPServer { _ in TestHTTPServer.Reply(delay: .seconds(10)) }
    defer { server.stop() }
    var configuration = ACMEHTTPSTransport.Configuration()
    configuration.allowInsecureHTTP = true
    configuration.requestTimeout = .milliseconds(300)
    let transport = try ACMEHTTPSTransport(configuration: configuration)
    let error = await #expect(throws: ACMEError.self) {
      _ = try await transport.send(ACMEHTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/"))
    }
    #expect(error?.kind == .transport)
    // Had the timeout not fired, the answer would have come after 10 s and nothing would have been thrown;
    // how long it took is not checked (the test pool can starve on a loaded 2-core machine).
    #expect(error?.description.contains("timed out") == true)
  }

  @Test("response reader: bare LF lines, interim 100, body to end of stream")
  func responseReader() throws {
    let stream = ScriptedStream("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\nX-A: 1\n\nbody until close")
    var reader = HTTPResponseReader(stream: stream, deadline: .now + .seconds(1))
    let (response, keepAlive) = try reader.read(requestMethod: "GET")
    #expect(response.status == 200 && response.headers["x-a"] == "1" && !keepAlive)
    #expect(String(decoding: response.body, as: UTF8.self) == "body until close")
  }
}

/// A ByteStream that hands out a fixed text a few bytes at a time, then ends.
final class ScriptedStream: ByteStream {
  private var remaining: [UInt8]
  init(_ text: String) { remaining = Array(text.utf8) }
  func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws {}
  func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws -> Bool {
    guard !remaining.isEmpty else { return false }
    let count = min(5, remaining.count)
    buffer += remaining.prefix(count)
    remaining.removeFirst(count)
    return true
  }
  var isStale: Bool { false }
  func close() {}
}
