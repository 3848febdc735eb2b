import EdgeHTTP1
import Foundation
import Testing

@testable import EdgeHTTP

/// `file_server browse` as `FileServer.respond` answers it: a listing where a directory has no index
/// file, with everything else (redirect, index, hidden, 404) as without browse.
@Suite("file_server browse")
final class FileServerBrowseTests {
  let base: String
  let root: String

  init() throws {
    var template = Array("/tmp/edge-browse-XXXXXX".utf8CString)
    base = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
    root = base + "/www"
    let fm = FileManager.default
    for dir in ["www/docs/old", "www/site", "www/.git", "www/private"] {
      try fm.createDirectory(atPath: base + "/" + dir, withIntermediateDirectories: true)
    }
    for (name, text) in [
      "docs/a.txt": "a", "docs/big.txt": String(repeating: "b", count: 2000), "docs/.env": "SECRET=1",
      "docs/secret.txt": "s", "site/index.html": "<h1>site</h1>", "private/p.txt": "p",
    ] {
      #expect(fm.createFile(atPath: root + "/" + name, contents: Data(text.utf8)))
    }
  }

  deinit { try? FileManager.default.removeItem(atPath: base) }

  var browsing: FileServerOptions { FileServerOptions(root: root, hide: ["secret.txt", "private"], browse: true) }

  func get(_ path: String, query: String = "", _ headers: [(String, String)] = [], method: String = "GET",
    options: FileServerOptions? = nil) -> FileResponse
  {
    FileServer.respond(method: method, path: path, query: query, headers: HTTPHeaders(headers), options: options ?? browsing)
  }

  func text(_ response: FileResponse) -> String {
    guard case .bytes(let bytes) = response.body else { return "" }
    return String(decoding: bytes, as: UTF8.self)
  }

  @Test("a directory without an index is listed as HTML, without dotfiles or hidden names")
  func html() {
    let r = get("/docs/")
    #expect(r.status == 200)
    #expect(r.field("Content-Type") == "text/html; charset=utf-8")
    #expect(r.field("Vary") == "Accept")
    let page = text(r)
    #expect(r.contentLength == page.utf8.count)
    #expect(page.contains("href=\"./a.txt\"") && page.contains("href=\"./big.txt\"") && page.contains("href=\"./old/\""))
    #expect(!page.contains(".env") && !page.contains("secret.txt"))
    #expect(page.contains("<title>Index of /docs/</title>"))
  }

  @Test("JSON when Accept asks for it, in the order and page the query asks for")
  func json() throws {
    let r = get("/docs/", query: "sort=size&order=desc&limit=2", [("Accept", "application/json")])
    #expect(r.field("Content-Type") == "application/json; charset=utf-8")
    let entries = try #require(try JSONSerialization.jsonObject(with: Data(text(r).utf8)) as? [[String: Any]])
    #expect(entries.map { $0["name"] as? String } == ["big.txt", "a.txt"])
    #expect(entries.first?["size"] as? Int == 2000)
  }

  @Test("the title is the path the client asked for, before any prefix was stripped")
  func title() {
    let r = FileServer.respond(method: "GET", path: "/docs/", listingPath: "/files/docs/", headers: HTTPHeaders(), options: browsing)
    #expect(text(r).contains("<title>Index of /files/docs/</title>"))
  }

  @Test("HEAD: the same fields and length, no body")
  func head() {
    let get = self.get("/docs/")
    let head = self.get("/docs/", method: "HEAD")
    #expect(head.status == 200 && head.body == .none)
    #expect(head.contentLength == get.contentLength && head.field("Content-Type") == get.field("Content-Type"))
  }

  @Test("redirect, index, hidden and dot directories and missing paths are as without browse")
  func unchanged() {
    #expect(get("/docs").status == 308)
    let index = get("/site/")
    #expect(index.status == 200 && index.field("Content-Type") == "text/html; charset=utf-8")
    if case .file(let fd, _, _) = index.body { close(fd) } else { Issue.record("the index file is not served") }
    #expect(get("/private/").status == 404)
    #expect(get("/.git/").status == 404)
    #expect(get("/nope/").status == 404)
    #expect(get("/docs/", options: FileServerOptions(root: root)).status == 404)
  }

  @Test("Accept: JSON only when named and not less wanted than HTML", arguments: [
    ("application/json", true), ("application/json, text/html", true), ("text/html, application/json;q=0.9", false),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false), ("*/*", false), ("", false),
    ("application/json;q=0", false), ("text/*;q=0.5, application/json;q=0.6", true), ("application/*", false),
    ("application/json;q=abc", false), ("APPLICATION/JSON", true),
  ])
  func accept(_ value: String, _ json: Bool) {
    #expect(AcceptedMediaTypes(value.isEmpty ? [] : [value]).prefersJSON == json)
  }
}
