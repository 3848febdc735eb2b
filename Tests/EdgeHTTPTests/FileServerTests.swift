import EdgeHTTP
import EdgeHTTP1
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A site tree in a fresh temporary directory, removed when the test's suite instance goes away.
/// Swift Testing makes one instance per test, so every test has its own tree and they run in parallel.
final class FileServerTests {
  let root: String
  /// A directory next to the root, for symlinks that point outside it.
  let outside: String
  let big: [UInt8]
  let mtime = 1_700_000_000

  init() throws {
    var template = Array("/tmp/edge-fileserver-XXXXXX".utf8CString)
    let base = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
    root = base + "/www"
    outside = base + "/outside"
    big = (0..<100 * 1024).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    let fm = FileManager.default
    for dir in ["www", "outside", "www/sub", "www/empty", "www/.git", "www/Ünï", "www/sub/deeper"] {
      try fm.createDirectory(atPath: base + "/" + dir, withIntermediateDirectories: true)
    }
    let files: [String: String] = [
      "index.html": "<h1>home</h1>", "style.CSS": "body{}", "app.js": "let a", "data.json": "{}", "notes.txt": "notes",
      "logo.png": "PNG", "font.woff2": "W2", "site.webmanifest": "{}", "file.torrent": "d4:e", "blob.unknownext": "?",
      "noext": "raw", "sub/index.html": "<p>sub</p>", "sub/deeper/page.txt": "deep", ".env": "SECRET=1",
      ".git/config": "[core]", "secret.txt": "hidden", "sub/secret.txt": "hidden too", "private.key": "key",
      "Ünï/naïve file.txt": "unicode", "a b.txt": "space", "app.css": "plain css", "app.css.gz": "GZIPPED",
      "app.css.br": "BROTLI!!", "only-gz.js": "js", "only-gz.js.gz": "gz-js", "empty.txt": "", "locked.txt": "locked",
    ]
    for (name, text) in files {
      #expect(fm.createFile(atPath: root + "/" + name, contents: Data(text.utf8)))
    }
    #expect(fm.createFile(atPath: root + "/big.bin", contents: Data(big)))
    #expect(fm.createFile(atPath: outside + "/leak.txt", contents: Data("outside".utf8)))
    try fm.createSymbolicLink(atPath: root + "/hostname", withDestinationPath: "/etc/hostname")
    try fm.createSymbolicLink(atPath: root + "/leak.txt", withDestinationPath: "../outside/leak.txt")
    try fm.createSymbolicLink(atPath: root + "/outdir", withDestinationPath: outside)
    try fm.createSymbolicLink(atPath: root + "/alias.txt", withDestinationPath: "notes.txt")
    try fm.createSymbolicLink(atPath: root + "/env-alias", withDestinationPath: ".env")
    try fm.createSymbolicLink(atPath: root + "/dangling", withDestinationPath: "nowhere")
    #expect(mkfifo(root + "/fifo", 0o644) == 0)
    #expect(chmod(root + "/locked.txt", 0) == 0)
    for name in ["app.css", "app.css.gz", "app.css.br", "notes.txt", "big.bin", "index.html"] {
      var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
      #expect(utimensat(AT_FDCWD, root + "/" + name, &times, 0) == 0)
    }
  }

  deinit {
    try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: root).deletingLastPathComponent().path)
  }

  // MARK: Helpers

  var options: FileServerOptions { FileServerOptions(root: root) }

  func get(_ path: String, _ headers: [(String, String)] = [], method: String = "GET", options: FileServerOptions? = nil)
    -> FileResponse
  {
    FileServer.respond(method: method, path: path, headers: HTTPHeaders(headers), options: options ?? self.options)
  }

  /// The bytes the response would send; closes a returned descriptor.
  func body(_ response: FileResponse) -> [UInt8] {
    switch response.body {
    case .none: return []
    case .bytes(let bytes): return bytes
    case .file(let fd, let offset, let length):
      defer { close(fd) }
      var buffer = [UInt8](repeating: 0, count: length)
      let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(offset)) }
      return n == length ? buffer : []
    }
  }

  func text(_ response: FileResponse) -> String { String(decoding: body(response), as: UTF8.self) }

  /// Open descriptors of this process that point into this test's tree (other tests may open their own).
  func descriptorsIntoTree() -> Int {
    let base = URL(fileURLWithPath: root).deletingLastPathComponent().path
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return entries.count { entry in
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry))?.hasPrefix(base) == true
    }
  }

  // MARK: Methods and basics

  @Test func getServesFileWithTypeAndValidators() {
    let r = get("/notes.txt")
    #expect(r.status == 200)
    #expect(r.field("Content-Type") == "text/plain; charset=utf-8")
    #expect(r.field("Last-Modified") == "Tue, 14 Nov 2023 22:13:20 GMT")
    #expect(r.field("ETag") == "\"" + String(mtime, radix: 16) + "5\"")
    #expect(r.field("Accept-Ranges") == "bytes")
    #expect(r.field("Vary") == nil)
    #expect(r.field("Content-Length") == nil && r.field("Date") == nil)
    #expect(r.contentLength == 5)
    #expect(text(r) == "notes")
  }

  @Test func headMirrorsGetWithoutDescriptor() {
    let g = get("/big.bin")
    let h = get("/big.bin", method: "HEAD")
    #expect(h.status == 200 && h.contentLength == big.count)
    #expect(h.body == .none)
    #expect(h.fields.map(\.name) == g.fields.map(\.name))
    #expect(h.fields.map(\.value) == g.fields.map(\.value))
    _ = body(g)
  }

  @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS", "get", "PATCH"])
  func otherMethodsAre405(_ method: String) {
    let r = get("/notes.txt", method: method)
    #expect(r.status == 405)
    #expect(r.field("Allow") == "GET, HEAD")
    #expect(r.body == .none && r.contentLength == 0)
  }

  @Test func emptyFileHasNoBody() {
    let r = get("/empty.txt")
    #expect(r.status == 200 && r.contentLength == 0 && r.body == .none)
    let ranged = get("/empty.txt", [("Range", "bytes=0-10")])
    #expect(ranged.status == 200 && ranged.body == .none)
  }

  @Test func pathWithSpacesAndUnicode() {
    #expect(text(get("/a%20b.txt")) == "space")
    #expect(text(get("/%C3%9Cn%C3%AF/na%C3%AFve%20file.txt")) == "unicode")
    #expect(get("/%C3%28").status == 400)  // not UTF-8
  }

  // MARK: Content types

  @Test(
    arguments: [
      ("/style.CSS", "text/css; charset=utf-8"), ("/app.js", "text/javascript; charset=utf-8"),
      ("/data.json", "application/json; charset=utf-8"), ("/logo.png", "image/png"), ("/font.woff2", "font/woff2"),
      ("/site.webmanifest", "application/manifest+json; charset=utf-8"), ("/file.torrent", "application/x-bittorrent"),
      ("/blob.unknownext", "application/octet-stream"), ("/noext", "application/octet-stream"),
      ("/", "text/html; charset=utf-8"),
    ])
  func contentTypes(_ path: String, _ type: String) {
    let r = get(path, method: "HEAD")
    #expect(r.status == 200)
    #expect(r.field("Content-Type") == type)
  }

  // MARK: Path safety

  @Test(
    arguments: [
      "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a/../../x", "/..%2f..%2fetc/passwd", "/sub/..%2F..%2Fetc%2Fpasswd",
      "/%2E%2E/www/notes.txt", "/sub/../../www/notes.txt", "..", "/./../outside/leak.txt",
    ])
  func traversalNeverEscapes(_ path: String) {
    #expect(get(path).status == 404)
  }

  @Test(arguments: ["/%00", "/notes.txt%00.png", "/%zz", "/%4", "/abc%", "/%%30"])
  func badEscapesAre400(_ path: String) {
    #expect(get(path).status == 400)
  }

  @Test func lexicalDotDotInsideRootIsResolved() {
    #expect(text(get("/sub/../notes.txt")) == "notes")
    #expect(text(get("/sub/deeper/%2e%2e/%2e%2e/notes.txt")) == "notes")
    #expect(text(get("//sub///./deeper//page.txt")) == "deep")
    #expect(text(get("/sub%2Fdeeper%2Fpage.txt")) == "deep")  // an encoded slash separates segments
  }

  @Test(arguments: ["/.env", "/.git/config", "/.git/", "/sub/../.env", "/%2eenv", "/.git", "/env-alias"])
  func dotfilesAre404(_ path: String) {
    #expect(get(path).status == 404)
  }

  @Test func symlinksOutsideRootAre404() {
    #expect(get("/hostname").status == 404)
    #expect(get("/leak.txt").status == 404)
    #expect(get("/outdir/leak.txt").status == 404)
    #expect(get("/outdir/").status == 404)
    #expect(get("/dangling").status == 404)
  }

  @Test func symlinkInsideRootIsServed() {
    let r = get("/alias.txt")
    #expect(r.status == 200 && text(r) == "notes")
  }

  @Test func missingAndSpecialFilesAre404() {
    #expect(get("/nope.txt").status == 404)
    #expect(get("/nope/deeper.txt").status == 404)
    #expect(get("/notes.txt/x").status == 404)
    #expect(get("/notes.txt/").status == 404)
    #expect(get("/fifo").status == 404)
    #expect(get("/x", options: FileServerOptions(root: root + "/missing-root")).status == 404)
  }

  @Test func hiddenEntriesAre404() {
    let o = FileServerOptions(root: root + "/", hide: ["secret.txt", root + "/private.key", "sub/deeper", "Caddyfile"])
    #expect(get("/secret.txt", options: o).status == 404)
    #expect(get("/sub/secret.txt", options: o).status == 404)
    #expect(get("/private.key", options: o).status == 404)
    #expect(get("/sub/deeper/page.txt", options: o).status == 404)
    #expect(get("/notes.txt", options: o).status == 200)
    #expect(get("/private.key").status == 200)
    let byDirectory = FileServerOptions(root: root, hide: ["sub"])
    #expect(get("/sub/", options: byDirectory).status == 404)
    #expect(get("/sub/index.html", options: byDirectory).status == 404)
    let index = FileServerOptions(root: root, hide: ["index.html"])
    #expect(get("/", options: index).status == 404)
  }

  @Test func unreadableFileIs403() {
    // Root ignores file permissions (CAP_DAC_OVERRIDE), so under root the file is served; the 403 path can
    // only be observed as an ordinary user.
    let expected = geteuid() == 0 ? 200 : 403
    #expect(get("/locked.txt").status == expected)
    #expect(get("/locked.txt", method: "HEAD").status == expected)
    _ = body(get("/locked.txt"))
  }

  // MARK: Directories

  @Test func directoryWithoutSlashRedirects() {
    let r = get("/sub")
    #expect(r.status == 308)
    #expect(r.field("Location") == "/sub/")
    #expect(r.body == .none && r.contentLength == 0)
    #expect(get("/%C3%9Cn%C3%AF").field("Location") == "/%C3%9Cn%C3%AF/")
    #expect(get("/sub/deeper").field("Location") == "/sub/deeper/")
    #expect(get("/empty").status == 308)
  }

  @Test func redirectCannotPointToAnotherHost() {
    #expect(get("//sub").field("Location") == "/sub/")
    #expect(get("/\\sub").status == 404)
  }

  @Test func directoryWithSlashServesIndex() {
    #expect(text(get("/sub/")) == "<p>sub</p>")
    #expect(text(get("/")) == "<h1>home</h1>")
    #expect(text(get("")) == "<h1>home</h1>")
    #expect(get("/empty/").status == 404)
    #expect(get("/sub/deeper/").status == 404)
  }

  @Test func indexNamesInOrder() {
    let o = FileServerOptions(root: root, indexNames: ["missing.html", "notes.txt", "index.html"])
    let r = get("/", options: o)
    #expect(text(r) == "notes")
    #expect(r.field("Content-Type") == "text/plain; charset=utf-8")
    #expect(get("/sub/", options: o).status == 200)
  }

  // MARK: Validators and conditional requests

  var notesETag: String { "\"" + String(mtime, radix: 16) + "5\"" }

  @Test func ifNoneMatch() {
    let r = get("/notes.txt", [("If-None-Match", notesETag)])
    #expect(r.status == 304 && r.body == .none && r.contentLength == 0)
    #expect(r.field("ETag") == notesETag)
    #expect(r.field("Last-Modified") != nil)
    #expect(r.field("Content-Type") == nil)
    #expect(get("/notes.txt", [("If-None-Match", "W/\(notesETag)")]).status == 304)  // weak comparison
    #expect(get("/notes.txt", [("If-None-Match", "\"x\", \"a,b\" , \(notesETag)")]).status == 304)
    #expect(get("/notes.txt", [("If-None-Match", "\"x\""), ("If-None-Match", notesETag)]).status == 304)
    #expect(get("/notes.txt", [("If-None-Match", "*")]).status == 304)
    #expect(get("/notes.txt", [("If-None-Match", notesETag)], method: "HEAD").status == 304)
    let other = get("/notes.txt", [("If-None-Match", "\"other\"")])
    #expect(other.status == 200 && text(other) == "notes")
  }

  @Test func ifModifiedSince() {
    let lastModified = HTTPDate.format(mtime)
    #expect(get("/notes.txt", [("If-Modified-Since", lastModified)]).status == 304)
    #expect(get("/notes.txt", [("If-Modified-Since", HTTPDate.format(mtime + 60))]).status == 304)
    #expect(get("/notes.txt", [("If-Modified-Since", "Tuesday, 14-Nov-23 22:13:20 GMT")]).status == 304)
    #expect(get("/notes.txt", [("If-Modified-Since", "Tue Nov 14 22:13:20 2023")]).status == 304)
    let older = get("/notes.txt", [("If-Modified-Since", HTTPDate.format(mtime - 1))])
    #expect(older.status == 200)
    _ = body(older)
    let garbage = get("/notes.txt", [("If-Modified-Since", "yesterday")])
    #expect(garbage.status == 200)
    _ = body(garbage)
    // If-None-Match takes precedence: a non-matching tag means 200 even though the date matches.
    let both = get("/notes.txt", [("If-None-Match", "\"other\""), ("If-Modified-Since", lastModified)])
    #expect(both.status == 200)
    _ = body(both)
  }

  @Test func ifMatchAndIfUnmodifiedSince() {
    let ok = get("/notes.txt", [("If-Match", notesETag)])
    #expect(ok.status == 200)
    _ = body(ok)
    let star = get("/notes.txt", [("If-Match", "*")])
    #expect(star.status == 200)
    _ = body(star)
    let weak = get("/notes.txt", [("If-Match", "W/\(notesETag)")])  // strong comparison
    #expect(weak.status == 412 && weak.body == .none && weak.contentLength == 0)
    #expect(get("/notes.txt", [("If-Match", "\"other\"")]).status == 412)
    #expect(get("/notes.txt", [("If-Unmodified-Since", HTTPDate.format(mtime - 1))]).status == 412)
    let unmodified = get("/notes.txt", [("If-Unmodified-Since", HTTPDate.format(mtime))])
    #expect(unmodified.status == 200)
    _ = body(unmodified)
    // If-Match present: If-Unmodified-Since is not consulted.
    let matchWins = get("/notes.txt", [("If-Match", notesETag), ("If-Unmodified-Since", HTTPDate.format(mtime - 1))])
    #expect(matchWins.status == 200)
    _ = body(matchWins)
    #expect(get("/notes.txt", [("If-Match", "\"other\"")], method: "HEAD").status == 412)
  }

  // MARK: Ranges

  @Test(
    arguments: [
      ("bytes=0-9", 0, 10), ("bytes=100-", 100, 100 * 1024 - 100), ("bytes=-500", 100 * 1024 - 500, 500),
      ("bytes=1000-1999", 1000, 1000), ("bytes=102000-999999", 102_000, 400), ("bytes=-999999", 0, 100 * 1024),
      ("BYTES=5-5", 5, 1), ("bytes=0-99999999999999999999999", 0, 100 * 1024),
    ])
  func singleRange(_ header: String, _ offset: Int, _ length: Int) {
    let r = get("/big.bin", [("Range", header)])
    #expect(r.status == 206)
    #expect(r.contentLength == length)
    #expect(r.field("Content-Range") == "bytes \(offset)-\(offset + length - 1)/\(big.count)")
    #expect(r.field("Accept-Ranges") == "bytes")
    if case .file(_, let o, let l) = r.body { #expect(o == offset && l == length) } else { Issue.record("no file body") }
    #expect(body(r) == Array(big[offset..<offset + length]))
  }

  @Test(arguments: ["bytes=102400-", "bytes=200000-200001", "bytes=-0", "bytes=99999999999999999999999-"])
  func unsatisfiableRange(_ header: String) {
    let r = get("/big.bin", [("Range", header)])
    #expect(r.status == 416)
    #expect(r.field("Content-Range") == "bytes */\(big.count)")
    #expect(r.contentLength == body(r).count && r.contentLength > 0)
    let head = get("/big.bin", [("Range", header)], method: "HEAD")
    #expect(head.status == 416 && head.body == .none && head.contentLength == r.contentLength)
  }

  @Test(
    arguments: [
      "bytes=5-1", "bytes=abc", "bytes=", "bytes=-", "items=0-1", "bytes 0-1", "bytes=0-1,5-6", "bytes=1-2-3",
      "bytes=+1-2", "bytes=0x10-",
    ])
  func ignoredRangeServesWholeFile(_ header: String) {
    let r = get("/big.bin", [("Range", header)])
    #expect(r.status == 200)
    #expect(r.field("Content-Range") == nil)
    #expect(r.contentLength == big.count)
    #expect(body(r) == big)
  }

  @Test func headWithRangeMirrorsGet() {
    let r = get("/big.bin", [("Range", "bytes=10-19")], method: "HEAD")
    #expect(r.status == 206 && r.contentLength == 10 && r.body == .none)
    #expect(r.field("Content-Range") == "bytes 10-19/\(big.count)")
  }

  @Test func ifRange() {
    let etag = try! #require(get("/big.bin", method: "HEAD").field("ETag"))
    let lastModified = HTTPDate.format(mtime)
    let matching = get("/big.bin", [("Range", "bytes=0-3"), ("If-Range", etag)])
    #expect(matching.status == 206)
    #expect(body(matching) == Array(big[0..<4]))
    let byDate = get("/big.bin", [("Range", "bytes=0-3"), ("If-Range", lastModified)])
    #expect(byDate.status == 206)
    _ = body(byDate)
    for stale in ["\"stale\"", "W/\(etag)", HTTPDate.format(mtime - 10), "garbage"] {
      let r = get("/big.bin", [("Range", "bytes=0-3"), ("If-Range", stale)])
      #expect(r.status == 200, "If-Range \(stale)")
      #expect(r.contentLength == big.count)
      _ = body(r)
    }
  }

  // MARK: Precompressed

  var compressed: FileServerOptions { FileServerOptions(root: root, precompressed: ["br", "zstd", "gzip"]) }

  @Test func servesPreferredPrecompressedVariant() {
    let r = get("/app.css", [("Accept-Encoding", "gzip, deflate, br")], options: compressed)
    #expect(r.status == 200)
    #expect(r.field("Content-Encoding") == "br")
    #expect(r.field("Content-Type") == "text/css; charset=utf-8")
    #expect(r.field("Vary") == "Accept-Encoding")
    #expect(text(r) == "BROTLI!!")
    let gzipFirst = FileServerOptions(root: root, precompressed: ["gzip", "br"])
    let g = get("/app.css", [("Accept-Encoding", "gzip, br")], options: gzipFirst)
    #expect(g.field("Content-Encoding") == "gzip")
    #expect(text(g) == "GZIPPED")
  }

  @Test func precompressedNegotiation() {
    let refused = get("/app.css", [("Accept-Encoding", "br;q=0, gzip;q=0.5")], options: compressed)
    #expect(refused.field("Content-Encoding") == "gzip")
    #expect(text(refused) == "GZIPPED")
    let none = get("/app.css", [("Accept-Encoding", "br;q=0.0, gzip; q=0")], options: compressed)
    #expect(none.field("Content-Encoding") == nil)
    #expect(none.field("Vary") == "Accept-Encoding")
    #expect(text(none) == "plain css")
    let absent = get("/app.css", options: compressed)
    #expect(absent.field("Content-Encoding") == nil && absent.field("Vary") == "Accept-Encoding")
    _ = body(absent)
    let onlyGzip = get("/only-gz.js", [("Accept-Encoding", "br, gzip")], options: compressed)
    #expect(onlyGzip.field("Content-Encoding") == "gzip")
    #expect(onlyGzip.field("Content-Type") == "text/javascript; charset=utf-8")
    #expect(text(onlyGzip) == "gz-js")
    let notConfigured = get("/app.css", [("Accept-Encoding", "br, gzip")])
    #expect(notConfigured.field("Content-Encoding") == nil && notConfigured.field("Vary") == nil)
    #expect(text(notConfigured) == "plain css")
  }

  @Test func precompressedHasOwnValidatorsAndRanges() {
    let plain = get("/app.css", options: compressed)
    let br = get("/app.css", [("Accept-Encoding", "br")], options: compressed)
    #expect(plain.field("ETag") != br.field("ETag"))
    #expect(br.field("ETag") == "\"" + String(mtime, radix: 16) + "8\"")
    _ = body(plain)
    _ = body(br)
    let ranged = get("/app.css", [("Accept-Encoding", "br"), ("Range", "bytes=2-4")], options: compressed)
    #expect(ranged.status == 206)
    #expect(ranged.field("Content-Range") == "bytes 2-4/8")
    #expect(text(ranged) == "OTL")
    let cached = get("/app.css", [("Accept-Encoding", "br"), ("If-None-Match", "\"" + String(mtime, radix: 16) + "8\"")], options: compressed)
    #expect(cached.status == 304)
    #expect(cached.field("Vary") == "Accept-Encoding")
  }

  @Test func hiddenVariantIsNotServed() {
    let o = FileServerOptions(root: root, hide: ["app.css.br"], precompressed: ["br", "gzip"])
    let r = get("/app.css", [("Accept-Encoding", "br, gzip")], options: o)
    #expect(r.field("Content-Encoding") == "gzip")
    _ = body(r)
  }

  // MARK: Descriptors

  @Test func noDescriptorLeaks() {
    let before = descriptorsIntoTree()
    let requests: [(String, [(String, String)], String)] = [
      ("/notes.txt", [], "GET"), ("/big.bin", [("Range", "bytes=5-")], "GET"), ("/big.bin", [("Range", "bytes=999999-")], "GET"),
      ("/notes.txt", [("If-None-Match", "*")], "GET"), ("/notes.txt", [("If-Match", "\"x\"")], "GET"),
      ("/hostname", [], "GET"), ("/.env", [], "GET"), ("/sub", [], "GET"), ("/sub/", [], "GET"), ("/empty/", [], "GET"),
      ("/empty.txt", [], "GET"), ("/locked.txt", [], "GET"), ("/fifo", [], "GET"), ("/%00", [], "GET"),
      ("/big.bin", [], "HEAD"), ("/app.css", [("Accept-Encoding", "br")], "GET"), ("/notes.txt", [], "POST"),
    ]
    var opened: [Int32] = []
    for _ in 0..<20 {
      for (path, headers, method) in requests {
        let r = get(path, headers, method: method, options: compressed)
        if case .file(let fd, _, _) = r.body { opened.append(fd) }
        if method == "HEAD" { #expect(r.body == .none) }
      }
    }
    #expect(descriptorsIntoTree() == before + opened.count)
    for fd in opened { close(fd) }
    #expect(descriptorsIntoTree() == before)
  }

  @Test func descriptorIsCloseOnExec() {
    let r = get("/notes.txt")
    guard case .file(let fd, _, _) = r.body else {
      Issue.record("no descriptor")
      return
    }
    #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
    #expect(fcntl(fd, F_GETFL) & O_ACCMODE == O_RDONLY)
    close(fd)
  }
}
