import EdgeHTTP
import Foundation
import Testing

/// Symlinks anywhere in a path. The server first looks a path up refusing every symlink (no `realpath`),
/// and resolves it only when it meets one: both ways must give the same answers.
extension FileServerTests {
  var base: String { URL(fileURLWithPath: root).deletingLastPathComponent().path }

  func link(_ path: String, to destination: String) throws {
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: destination)
  }

  @Test func symlinkedDirectoryInsideRootIsServed() throws {
    try link(root + "/linkdir", to: "sub")
    try link(root + "/absdir", to: root + "/sub")
    #expect(text(get("/linkdir/deeper/page.txt")) == "deep")
    #expect(text(get("/absdir/deeper/page.txt")) == "deep")
    #expect(text(get("/linkdir/")) == "<p>sub</p>")
    #expect(get("/linkdir").status == 308)
    #expect(get("/linkdir/deeper/page.txt", method: "HEAD").status == 200)
  }

  @Test func symlinkedDirectoryIntoDotfileOrHiddenPathIs404() throws {
    try link(root + "/gitlink", to: ".git")
    try link(root + "/sublink", to: "sub")
    #expect(get("/gitlink/config").status == 404)
    let hidden = FileServerOptions(root: root, hide: [root + "/sub/deeper"])
    #expect(get("/sublink/deeper/page.txt", options: hidden).status == 404)
    #expect(get("/sub/deeper/page.txt", options: hidden).status == 404)
    #expect(get("/sublink/index.html", options: hidden).status == 200)
    _ = body(get("/sublink/index.html", options: hidden))
  }

  @Test func symlinkedDirectoryOutsideRootIs404ForEveryMethodAndCondition() {
    let etag = "\"" + String(mtime, radix: 16) + "7\""
    for method in ["GET", "HEAD"] {
      #expect(get("/outdir/leak.txt", method: method).status == 404)
      #expect(get("/outdir/leak.txt", [("If-None-Match", etag)], method: method).status == 404)
      #expect(get("/leak.txt", [("Range", "bytes=0-1")], method: method).status == 404)
    }
  }

  @Test func rootThatIsASymlink() throws {
    try link(base + "/current", to: "www")
    let options = FileServerOptions(root: base + "/current", hide: [base + "/www/private.key"])
    #expect(text(get("/notes.txt", options: options)) == "notes")
    #expect(text(get("/alias.txt", options: options)) == "notes")
    #expect(text(get("/", options: options)) == "<h1>home</h1>")
    #expect(get("/leak.txt", options: options).status == 404)
    #expect(get("/.env", options: options).status == 404)
    // A hide entry naming the resolved path hides it through the symlinked root too.
    #expect(get("/private.key", options: options).status == 404)
    let etag = try #require(get("/notes.txt", method: "HEAD", options: options).field("ETag"))
    #expect(get("/notes.txt", [("If-None-Match", etag)], options: options).status == 304)
  }

  @Test func conditionalRequestsOnASymlinkedFile() throws {
    let etag = try #require(get("/alias.txt", method: "HEAD").field("ETag"))
    #expect(get("/alias.txt", [("If-None-Match", etag)]).status == 304)
    #expect(get("/env-alias", [("If-None-Match", "*")]).status == 404)
    #expect(get("/hostname", [("If-None-Match", "*")]).status == 404)
  }

  @Test func indexFilesThroughSymlinks() throws {
    for dir in ["shell", "escape"] {
      try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
    }
    try link(root + "/shell/index.html", to: "../index.html")
    try link(root + "/escape/index.html", to: "../../outside/leak.txt")
    #expect(text(get("/shell/")) == "<h1>home</h1>")
    #expect(get("/escape/").status == 404)
  }

  @Test func precompressedVariantsThroughSymlinks() throws {
    try link(root + "/notes.txt.gz", to: "app.css.gz")
    try link(root + "/sub/deeper/page.txt.gz", to: "../../../outside/leak.txt")
    let options = FileServerOptions(root: root, precompressed: ["gzip"])
    let inside = get("/notes.txt", [("Accept-Encoding", "gzip")], options: options)
    #expect(inside.field("Content-Encoding") == "gzip" && text(inside) == "GZIPPED")
    let outside = get("/sub/deeper/page.txt", [("Accept-Encoding", "gzip")], options: options)
    #expect(outside.field("Content-Encoding") == nil && text(outside) == "deep")
  }

  @Test(arguments: [
    ("/sub/", 200), ("sub/", 200), ("/sub/.", 308), ("", 200), ("/", 200), ("//", 200), ("/sub/index.html/", 404),
    ("/sub/deeper/page.txt", 200), ("sub/deeper/page.txt", 200), ("/sub/deeper/page.txt.", 404), ("/sub/.", 308),
    ("/a b.txt", 200), ("/Ünï/naïve file.txt", 200),
  ])
  func plainAndEncodedPathsAgree(_ path: String, _ status: Int) {
    let r = get(path)
    #expect(r.status == status)
    _ = body(r)
  }
}
