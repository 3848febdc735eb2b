import EdgeServer
import Foundation
import Testing

@Suite("Config tree: Caddy's /config/[path] operations")
struct ConfigTreeTests {
  static let config = """
    {"global":{"email":"a@example.com","workers":2},
     "sites":[{"addresses":["a.example"],"routes":[{"respond":"one"},{"respond":"two"}]},{"addresses":["b.example"]}]}
    """

  func decode(_ text: String) -> Any {
    try! JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
  }

  /// Compact JSON with sorted keys, to compare trees as text.
  func encode(_ value: Any) -> String {
    let data = try! JSONSerialization.data(
      withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
  }

  func apply(_ method: String, _ path: String, _ body: String? = nil) throws(ConfigTreeError) -> Any {
    try ConfigTree.apply(method, path: path, body: body.map(decode), to: decode(Self.config))
  }

  /// The value at `at` after applying `method` at `path`.
  func after(_ method: String, _ path: String, _ body: String? = nil, at: String) throws -> String {
    encode(try ConfigTree.value(at: at, in: apply(method, path, body)))
  }

  func failure(_ method: String, _ path: String, _ body: String? = nil) -> ConfigTreeError? {
    do {
      _ = try apply(method, path, body)
      return nil
    } catch {
      return error
    }
  }

  func failure(get path: String) -> ConfigTreeError? {
    do {
      _ = try ConfigTree.value(at: path, in: decode(Self.config))
      return nil
    } catch {
      return error
    }
  }

  // MARK: GET

  @Test func valueWalksKeysAndIndexes() throws {
    let root = decode(Self.config)
    #expect(encode(try ConfigTree.value(at: "/config/", in: root)) == encode(root))
    #expect(encode(try ConfigTree.value(at: "/config", in: root)) == encode(root))
    #expect(encode(try ConfigTree.value(at: "/config/sites/0/addresses/", in: root)) == #"["a.example"]"#)
    #expect(encode(try ConfigTree.value(at: "/config/sites/0/routes/1/respond", in: root)) == #""two""#)
    #expect(encode(try ConfigTree.value(at: "/config/glob%61l//workers", in: root)) == "2")
  }

  @Test(arguments: [
    ("/config/sitez", 404, "no key 'sitez' in /config/ (did you mean 'sites'?)"),
    ("/config/sites/1/routes", 404, "no key 'routes' in /config/sites/1/"),
    ("/config/sites/x", 400, "'x' is not an index into /config/sites/, an array of 2"),
    ("/config/sites/2", 404, "index 2 is out of range in /config/sites/, an array of 2"),
    ("/config/sites/-1", 404, "index -1 is out of range in /config/sites/, an array of 2"),
    ("/config/global/workers/x", 404, "/config/global/workers is not an object or an array, so it has no 'x'"),
    ("/configs/x", 400, "a configuration path starts with /config/, not '/configs/x'"),
    ("", 400, "a configuration path starts with /config/, not ''"),
    ("/config/sites/...", 400, "'...' appends to an array, with POST only"),
  ])
  func valueErrorsNameTheSegment(_ path: String, _ status: Int, _ message: String) {
    #expect(failure(get: path) == ConfigTreeError(status: status, message: message))
  }

  // MARK: POST

  @Test func postSetsReplacesAndAppends() throws {
    #expect(try after("POST", "/config/global/email", #""b@example.com""#, at: "/config/global/email") == #""b@example.com""#)
    #expect(try after("POST", "/config/global/grace", #""5s""#, at: "/config/global/grace") == #""5s""#)
    #expect(
      try after("POST", "/config/sites/0/addresses", #""c.example""#, at: "/config/sites/0/addresses")
        == #"["a.example","c.example"]"#)
    #expect(try after("POST", "/config/sites/0/addresses", #"["c"]"#, at: "/config/sites/0/addresses") == #"["a.example",["c"]]"#)
    #expect(try after("POST", "/config/", #"{"sites":[]}"#, at: "/config/") == #"{"sites":[]}"#)
  }

  @Test func postWithEllipsisAppendsTheElements() throws {
    let path = "/config/sites/0/addresses/..."
    #expect(try after("POST", path, #"["c","d"]"#, at: "/config/sites/0/addresses") == #"["a.example","c","d"]"#)
    let sites = encode(try ConfigTree.value(at: "/config/sites", in: decode(Self.config)))
    #expect(try after("POST", "/config/sites/...", "[]", at: "/config/sites") == sites)
    #expect(
      failure("POST", path, #""c""#)
        == ConfigTreeError(status: 400, message: "POST /config/sites/0/addresses/... appends the elements of an array body"))
    #expect(
      failure("POST", "/config/global/workers/...", "[1]")
        == ConfigTreeError(status: 400, message: "/config/global/workers is not an array to append to with '...'"))
    #expect(
      failure("PUT", path, "[1]") == ConfigTreeError(status: 400, message: "'...' appends to an array, with POST only, not PUT"))
  }

  @Test("POST at an array index appends to the array, as Caddy's does")
  func postAtAnIndexAppends() throws {
    #expect(try after("POST", "/config/sites/0/addresses/0", #""z""#, at: "/config/sites/0/addresses") == #"["a.example","z"]"#)
    #expect(
      try after("POST", "/config/sites/0/addresses/0/...", #"["y","z"]"#, at: "/config/sites/0/addresses")
        == #"["a.example","y","z"]"#)
    #expect(failure("POST", "/config/sites/first", "{}")?.status == 400)
  }

  @Test("POST, PATCH and DELETE need the parent to exist")
  func noNestedCreation() {
    for method in ["POST", "PATCH", "DELETE"] {
      #expect(
        failure(method, "/config/global/tls/email", "1")
          == ConfigTreeError(status: 404, message: "no key 'tls' in /config/global/"))
      #expect(
        failure(method, "/config/sites/2/addresses", "1")
          == ConfigTreeError(status: 404, message: "index 2 is out of range in /config/sites/, an array of 2"))
    }
  }

  // MARK: PUT

  @Test func putCreatesAndInserts() throws {
    #expect(
      try after("PUT", "/config/global/grace", #""5s""#, at: "/config/global")
        == #"{"email":"a@example.com","grace":"5s","workers":2}"#)
    #expect(try after("PUT", "/config/sites/0/addresses/0", #""z""#, at: "/config/sites/0/addresses") == #"["z","a.example"]"#)
    #expect(try after("PUT", "/config/sites/0/addresses/1", #""z""#, at: "/config/sites/0/addresses") == #"["a.example","z"]"#)
    #expect(try after("PUT", "/config/sites/1", #"{"addresses":[]}"#, at: "/config/sites/1") == #"{"addresses":[]}"#)
    #expect(try after("PUT", "/config/sites/2", "{}", at: "/config/sites/2") == "{}")
  }

  @Test("PUT makes missing objects on the way, as Caddy's does, but never array elements")
  func putCreatesParents() throws {
    #expect(try after("PUT", "/config/apps/http/servers", "{}", at: "/config/apps") == #"{"http":{"servers":{}}}"#)
    #expect(
      failure("PUT", "/config/sites/3", "{}")
        == ConfigTreeError(status: 404, message: "index 3 is out of range in /config/sites/, an array of 2"))
    #expect(failure("PUT", "/config/sites/2/addresses", "[]")?.status == 404)
  }

  @Test func putRefusesWhatExists() {
    #expect(
      failure("PUT", "/config/global/workers", "4")
        == ConfigTreeError(status: 409, message: "key 'workers' already exists in /config/global/; use PATCH to replace it"))
    #expect(
      failure("PUT", "/config/", "{}")
        == ConfigTreeError(status: 409, message: "/config/ already exists; use PATCH or POST to replace it"))
    #expect(failure("PUT", "/config/sites/x", "{}")?.status == 400)
  }

  // MARK: PATCH

  @Test func patchReplacesWhatExists() throws {
    #expect(try after("PATCH", "/config/global/workers", "4", at: "/config/global/workers") == "4")
    #expect(
      try after("PATCH", "/config/sites/1", #"{"addresses":["c.example"]}"#, at: "/config/sites/1/addresses/0") == #""c.example""#
    )
    #expect(try after("PATCH", "/config", #"{"sites":[]}"#, at: "/config/") == #"{"sites":[]}"#)
    #expect(
      failure("PATCH", "/config/global/grace", #""5s""#)
        == ConfigTreeError(status: 404, message: "no key 'grace' in /config/global/"))
    #expect(
      failure("PATCH", "/config/sites/2", "{}")
        == ConfigTreeError(status: 404, message: "index 2 is out of range in /config/sites/, an array of 2"))
  }

  // MARK: DELETE

  @Test func deleteRemovesWhatExists() throws {
    #expect(try after("DELETE", "/config/global/email", at: "/config/global") == #"{"workers":2}"#)
    #expect(try after("DELETE", "/config/sites/0/routes/0", at: "/config/sites/0/routes") == #"[{"respond":"two"}]"#)
    #expect(try apply("DELETE", "/config/") is NSNull)
    #expect(
      failure("DELETE", "/config/global/emial")
        == ConfigTreeError(status: 404, message: "no key 'emial' in /config/global/ (did you mean 'email'?)"))
    #expect(
      failure("DELETE", "/config/sites/x")
        == ConfigTreeError(status: 400, message: "'x' is not an index into /config/sites/, an array of 2"))
    #expect(failure("PATCH", "/config/", "{}") == nil)
    #expect(throws: ConfigTreeError(status: 404, message: "there is no configuration at /config/")) {
      try ConfigTree.apply("DELETE", path: "/config/", body: nil, to: NSNull())
    }
  }

  // MARK: Requests

  @Test func requestsThatCannotApply() {
    #expect(
      failure("GET", "/config/")
        == ConfigTreeError(status: 405, message: "/config/ changes with POST, PUT, PATCH or DELETE, not GET"))
    #expect(failure("post", "/config/")?.status == 405)
    #expect(
      failure("PATCH", "/config/global/workers")
        == ConfigTreeError(status: 400, message: "PATCH /config/global/workers needs a JSON body"))
    #expect(failure("POST", "/other", "1")?.status == 400)
  }

  @Test func theRootIsNotChanged() throws {
    let root = decode(Self.config)
    _ = try ConfigTree.apply("DELETE", path: "/config/sites/0", body: nil, to: root)
    _ = try ConfigTree.apply("PUT", path: "/config/global/grace", body: "5s", to: root)
    #expect(encode(root) == encode(decode(Self.config)))
  }
}
