import EdgeHTTP1
import Testing

@testable import EdgeHTTP

@Suite struct PlaceholderTests {
  let context = PlaceholderContext(
    request: RequestHead(
      method: "POST", target: "/a/b?x=1", headers: HTTPHeaders([("Host", "Example.test:8443"), ("X-Id", "7")]),
      host: "Example.test:8443"),
    scheme: "https", remoteIP: "192.0.2.1", upstream: "10.0.0.5:80")

  @Test("known placeholders, short and long names", arguments: [
    ("{host}", "example.test"), ("{hostport}", "Example.test:8443"), ("{uri}", "/a/b?x=1"), ("{path}", "/a/b"),
    ("{query}", "x=1"), ("{method}", "POST"), ("{scheme}", "https"), ("{remote_host}", "192.0.2.1"),
    ("{http.request.uri.path}", "/a/b"), ("{header.X-Id}", "7"), ("{http.request.header.x-id}", "7"),
    ("{header.Missing}", ""), ("{upstream_hostport}", "10.0.0.5:80"),
    ("https://{host}{uri}", "https://example.test/a/b?x=1"),
  ])
  func expands(template: String, expected: String) {
    #expect(Placeholders.expand(template, context) == expected)
  }

  @Test("unknown names and stray braces stay as written")
  func leavesTheRest() {
    #expect(Placeholders.expand("{\"ok\": {nope}}", context) == "{\"ok\": {nope}}")
    #expect(Placeholders.expand("open { only", context) == "open { only")
    #expect(Placeholders.expand("no braces", context) == "no braces")
  }
}
