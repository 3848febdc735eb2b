import EdgeHTTP
import Testing

@Suite struct MatchPathTests {
  func normal(_ path: String) -> String {
    var path = path
    return path.withUTF8 { raw in
      MatchPath.normalized(UnsafeRawBufferPointer(raw)).map { String(decoding: $0, as: UTF8.self) } ?? "(unchanged)"
    }
  }

  @Test(arguments: [
    ("/admin/x", "(unchanged)"),
    ("/a/b/", "(unchanged)"),
    ("/", "(unchanged)"),
    ("/.well-known/acme-challenge/x", "(unchanged)"),
    ("/a..b/c", "(unchanged)"),
    ("/public/../admin/x", "/admin/x"),
    ("/public/%2e%2e/admin/x", "/admin/x"),
    ("/public/%2E%2E%2Fadmin/x", "/admin/x"),
    ("//admin/x", "/admin/x"),
    ("/./admin/x", "/admin/x"),
    ("/a/b/..", "/a/"),
    ("/a/.", "/a/"),
    ("/../../etc/passwd", "/etc/passwd"),
    ("/static/a%20b.css", "/static/a b.css"),
    ("/bad%zz/x", "/bad%zz/x"),
    ("/..", "/"),
  ])
  func normalization(_ raw: String, _ expected: String) {
    #expect(normal(raw) == expected)
  }

  @Test func escapingForTargets() {
    #expect(MatchPath.escaped(Array("/a b/%/ü?#".utf8)) == "/a%20b/%25/%C3%BC%3F%23")
    #expect(MatchPath.escaped(Array("/keep-._~!$&'()*+,;=:@/".utf8)) == "/keep-._~!$&'()*+,;=:@/")
  }
}
