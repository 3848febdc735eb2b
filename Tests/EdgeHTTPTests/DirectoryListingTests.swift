import Foundation
import Testing

@testable import EdgeHTTP

#if canImport(Glibc)
  import Glibc
#endif

/// A site tree in a fresh temporary directory per test, with a directory beside the root for symlinks
/// that leave it.
@Suite("Directory listings")
final class DirectoryListingTests {
  let base: String
  let root: String
  let hide = ["secret.txt", "sub/deeper"]

  init() throws {
    var template = Array("/tmp/edge-listing-XXXXXX".utf8CString)
    base = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
    root = base + "/www"
    let fm = FileManager.default
    for dir in ["www/sub/deeper", "www/empty", "www/.git", "www/sorted/d", "www/sorted/e", "outside"] {
      try fm.createDirectory(atPath: base + "/" + dir, withIntermediateDirectories: true)
    }
    let files: [String: Int] = [
      "notes.txt": 5, "big.bin": 3000, ".env": 3, "secret.txt": 6, "a b?#<x>.txt": 1, "\"q'&.txt": 1,
      "<img src=x onerror=alert(1)>": 1, "naïve file.txt": 1, "sub/page.txt": 4, "sub/secret.txt": 1,
      "sorted/a.txt": 30, "sorted/B.txt": 10, "sorted/c.txt": 20,
    ]
    for (name, size) in files {
      #expect(fm.createFile(atPath: root + "/" + name, contents: Data(repeating: 0x61, count: size)))
    }
    #expect(fm.createFile(atPath: base + "/outside/leak.txt", contents: Data("outside".utf8)))
    try fm.createSymbolicLink(atPath: root + "/alias.txt", withDestinationPath: "notes.txt")
    try fm.createSymbolicLink(atPath: root + "/subalias", withDestinationPath: "sub")
    try fm.createSymbolicLink(atPath: root + "/outdir", withDestinationPath: "../outside")
    try fm.createSymbolicLink(atPath: root + "/leak.txt", withDestinationPath: "../outside/leak.txt")
    try fm.createSymbolicLink(atPath: root + "/env-alias", withDestinationPath: ".env")
    try fm.createSymbolicLink(atPath: root + "/dangling", withDestinationPath: "nowhere")
    let notUTF8 = root.utf8CString.dropLast() + Array("/bad\u{7F}".utf8CString).dropLast() + [-1, 0]
    let fd = notUTF8.withUnsafeBufferPointer { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
    #expect(fd >= 0)
    close(fd)
    setTime("notes.txt", 1_700_000_000)
    setTime("big.bin", 1_700_000_000, nanoseconds: 120_000_000)
    for (name, time) in [
      ("sorted/d", 50), ("sorted/B.txt", 100), ("sorted/c.txt", 200), ("sorted/a.txt", 300), ("sorted/e", 400),
    ] {
      setTime(name, time)
    }
  }

  deinit { try? FileManager.default.removeItem(atPath: base) }

  func setTime(_ name: String, _ seconds: Int, nanoseconds: Int = 0) {
    var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
    #expect(utimensat(AT_FDCWD, root + "/" + name, &times, AT_SYMLINK_NOFOLLOW) == 0)
  }

  func listing(_ path: String = "/") throws -> DirectoryListing {
    let directory = path == "/" ? root : root + DirectoryListing.decoded(path)
    return try #require(DirectoryListing.read(directory: directory, requestPath: path, hide: hide, root: root))
  }

  func entry(_ name: String, in listing: DirectoryListing) throws -> DirectoryListing.Entry {
    try #require(listing.entries.first { $0.name == name })
  }

  func html(_ listing: DirectoryListing) -> String { String(decoding: listing.html(), as: UTF8.self) }

  // MARK: What is listed

  @Test func hidesWhatTheFileServerHides() throws {
    let names = Set(try listing().entries.map(\.name))
    #expect(!names.contains(".env") && !names.contains(".git") && !names.contains("secret.txt"))
    #expect(names.isSuperset(of: ["notes.txt", "sub", "empty", "a b?#<x>.txt", "alias.txt", "outdir"]))
    #expect(!names.contains { $0.hasPrefix("bad") }, "a name that is not UTF-8 cannot be requested")
    #expect(try listing("/sub/").entries.map(\.name) == ["page.txt"])
  }

  @Test func refusesDirectoriesTheFileServerWouldNotServe() {
    #expect(DirectoryListing.read(directory: root + "/sub/deeper", requestPath: "/sub/deeper/", hide: hide, root: root) == nil)
    #expect(DirectoryListing.read(directory: root + "/.git", requestPath: "/.git/", hide: hide, root: root) == nil)
    #expect(DirectoryListing.read(directory: root + "/outdir", requestPath: "/outdir/", hide: hide, root: root) == nil)
    #expect(DirectoryListing.read(directory: root + "/missing", requestPath: "/missing/", hide: hide, root: root) == nil)
    #expect(DirectoryListing.read(directory: root + "/subalias", requestPath: "/subalias/", hide: hide, root: root) != nil)
  }

  @Test func followsSymlinksOnlyInsideTheRoot() throws {
    let l = try listing()
    let alias = try entry("alias.txt", in: l)
    #expect(alias.isSymlink && !alias.isDirectory && alias.size == 5)
    let subalias = try entry("subalias", in: l)
    #expect(subalias.isSymlink && subalias.isDirectory)
    for (name, target) in [
      ("outdir", "../outside"), ("leak.txt", "../outside/leak.txt"), ("env-alias", ".env"), ("dangling", "nowhere"),
    ] {
      let link = try entry(name, in: l)
      #expect(link.isSymlink && !link.isDirectory, "\(name)")
      #expect(link.size == target.utf8.count, "\(name) reports the link itself, not its target")
    }
  }

  @Test func emptyDirectory() throws {
    let l = try listing("/empty/")
    #expect(l.entries.isEmpty)
    #expect(String(decoding: l.json(), as: UTF8.self) == "[]\n")
    let page = html(l)
    #expect(page.contains("<title>Index of /empty/</title>") && page.contains("<a href=\"../\">../</a>"))
    #expect(page.contains("0 directories, 0 files"))
  }

  // MARK: HTML

  @Test func pageAtRootHasNoParentLink() throws {
    let page = html(try listing())
    #expect(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">") && page.hasSuffix("</html>\n"))
    #expect(page.contains("<title>Index of /</title>"))
    #expect(!page.contains("href=\"../\""))
    #expect(!page.contains("<script") && !page.contains("src=\"http") && !page.contains("href=\"http"))
    #expect(page.contains("<a href=\"./sub/\">sub/</a>"))
    #expect(page.contains("<time datetime=\"2023-11-14T22:13:20Z\">2023-11-14T22:13:20Z</time>"))
    #expect(page.contains("<td class=\"n\">5 B</td>") && page.contains("<td class=\"n\">2.9 KiB</td>"))
  }

  @Test func hostileNamesAreEscapedAndLinksEncoded() throws {
    let page = html(try listing())
    #expect(page.contains("<a href=\"./a%20b%3F%23%3Cx%3E.txt\">a b?#&lt;x&gt;.txt</a>"))
    #expect(page.contains("<a href=\"./%22q%27%26.txt\">&quot;q&#39;&amp;.txt</a>"))
    #expect(page.contains("<a href=\"./na%C3%AFve%20file.txt\">naïve file.txt</a>"))
    #expect(!page.contains("<x>") && !page.contains("<img"))
    #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"))
  }

  @Test func titleIsTheDecodedEscapedRequestPath() {
    let l = DirectoryListing(path: DirectoryListing.decoded("/%3Cb%3E%20x"), entries: [])
    #expect(html(l).contains("<title>Index of /&lt;b&gt; x/</title>"))
    #expect(DirectoryListing.decoded("/bad%zz") == "/bad%zz" && DirectoryListing.decoded("/%ff") == "/%ff")
  }

  @Test func columnHeadersToggleTheOrder() throws {
    let l = try listing()
    var page = html(l)
    #expect(page.contains("<th aria-sort=\"ascending\"><a href=\"?sort=namedirfirst&amp;order=desc\">Name</a>"))
    #expect(page.contains("<th class=\"n\"><a href=\"?sort=size&amp;order=asc\">Size</a></th>"))
    #expect(page.contains("<th><a href=\"?sort=time&amp;order=asc\">Modified</a></th>"))
    page = html(l.sorted(by: .size, ascending: true))
    #expect(page.contains("<a href=\"?sort=size&amp;order=desc\">Size</a>"))
    #expect(page.contains("<a href=\"?sort=namedirfirst&amp;order=asc\">Name</a>"))
    page = html(l.sorted(by: .name, ascending: false))
    #expect(page.contains("<th aria-sort=\"descending\"><a href=\"?sort=name&amp;order=asc\">Name</a>"))
  }

  @Test(arguments: [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (10 * 1024, "10 KiB"), (5 << 20, "5.0 MiB"),
  ])
  func humanSizes(_ bytes: Int, _ text: String) {
    #expect(DirectoryListing.humanSize(bytes) == text)
  }

  // MARK: Order and paging

  @Test(arguments: [
    (DirectoryListing.Sort.nameDirFirst, true, ["d", "e", "a.txt", "B.txt", "c.txt"]),
    (.nameDirFirst, false, ["c.txt", "B.txt", "a.txt", "e", "d"]),
    (.name, true, ["a.txt", "B.txt", "c.txt", "d", "e"]),
    (.size, true, ["d", "e", "B.txt", "c.txt", "a.txt"]),
    (.size, false, ["a.txt", "c.txt", "B.txt", "e", "d"]),
    (.time, true, ["d", "B.txt", "c.txt", "a.txt", "e"]),
  ])
  func sortOrders(_ sort: DirectoryListing.Sort, _ ascending: Bool, _ expected: [String]) throws {
    let l = try listing("/sorted/")
    #expect(l.entries.map(\.name) == ["d", "e", "a.txt", "B.txt", "c.txt"], "read sorts directories first")
    let sorted = l.sorted(by: sort, ascending: ascending)
    #expect(sorted.entries.map(\.name) == expected)
    #expect(sorted.sort == sort && sorted.ascending == ascending)
  }

  @Test func namesCompareNaturally() {
    let names = ["foo10.txt", "Foo1.txt", "foo2.txt", "foo02.txt", "bar", "Bar"].sorted(by: DirectoryListing.namePrecedes)
    #expect(names == ["Bar", "bar", "Foo1.txt", "foo02.txt", "foo2.txt", "foo10.txt"])
  }

  @Test func queryOptions() {
    #expect(DirectoryListing.options(query: "") == .init())
    #expect(
      DirectoryListing.options(query: "sort=size&order=desc&limit=10&offset=5")
        == .init(sort: .size, ascending: false, limit: 10, offset: 5))
    #expect(DirectoryListing.options(query: "?sort=time&sort=size&order=asc") == .init(sort: .time))
    #expect(DirectoryListing.options(query: "sort=Size&order=down&limit=-1&offset=x&limit=3") == .init())
    #expect(DirectoryListing.options(query: "limit=0&offset=-2&x&=&sort") == .init())
  }

  @Test func limitAndOffset() throws {
    let l = try listing("/sorted/")
    #expect(l.page(offset: 1, limit: 2).entries.map(\.name) == ["e", "a.txt"])
    #expect(l.page(offset: 3, limit: nil).entries.map(\.name) == ["B.txt", "c.txt"])
    #expect(l.page(offset: 9, limit: 2).entries.isEmpty)
    let options = DirectoryListing.options(query: "sort=size&order=desc&limit=2&offset=1")
    #expect(l.applying(options).entries.map(\.name) == ["c.txt", "B.txt"])
  }

  // MARK: JSON

  @Test func jsonHasCaddysShape() throws {
    let l = try listing()
    let decoded = try JSONSerialization.jsonObject(with: Data(l.json()))
    let objects = try #require(decoded as? [[String: Any]])
    #expect(objects.count == l.entries.count)
    for object in objects {
      #expect(Set(object.keys) == ["name", "size", "url", "mod_time", "mode", "is_dir", "is_symlink"])
    }
    func object(_ name: String) throws -> [String: Any] { try #require(objects.first { $0["name"] as? String == name }) }

    let sub = try object("sub/")
    #expect(sub["url"] as? String == "./sub/" && sub["is_dir"] as? Bool == true && sub["is_symlink"] as? Bool == false)
    var st = stat()
    #expect(stat(root + "/sub", &st) == 0)
    #expect((sub["mode"] as? NSNumber)?.uint32Value == 1 << 31 | UInt32(st.st_mode) & 0o777)

    let notes = try object("notes.txt")
    #expect(notes["size"] as? Int == 5 && notes["mod_time"] as? String == "2023-11-14T22:13:20Z")
    #expect(try object("big.bin")["mod_time"] as? String == "2023-11-14T22:13:20.12Z")

    let hostile = try object("a b?#<x>.txt")
    #expect(hostile["url"] as? String == "./a%20b%3F%23%3Cx%3E.txt")
    let link = try object("outdir")
    #expect(link["is_symlink"] as? Bool == true && link["is_dir"] as? Bool == false)
    #expect(((link["mode"] as? NSNumber)?.uint32Value ?? 0) & 1 << 27 != 0)

    let raw = String(decoding: l.json(), as: UTF8.self)
    #expect(!raw.contains("<") && raw.contains("\\u003cimg"))
  }
}
