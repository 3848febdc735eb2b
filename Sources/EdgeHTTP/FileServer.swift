#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import EdgeCore
import EdgeHTTP1

/// Options of one `file_server` (with the site's `root`).
public struct FileServerOptions: Sendable, Equatable {
  /// The directory served; a trailing slash is allowed and ignored.
  public var root: String
  /// Files served for a request naming a directory (with a trailing slash), the first that exists.
  public var indexNames: [String]
  /// Never served, as if absent: a bare name hides every file or directory of that name; an entry with a
  /// slash hides that path and everything under it (absolute, or relative to `root`).
  public var hide: [String]
  /// Encodings whose sidecar files (`.br`, `.zst`, `.gz`) are served instead, in this order of preference.
  public var precompressed: [String]
  /// A directory without an index file is answered with its listing instead of 404.
  public var browse: Bool

  public init(
    root: String, indexNames: [String] = ["index.html", "index.txt"], hide: [String] = [], precompressed: [String] = [],
    browse: Bool = false
  ) {
    self.root = root
    self.indexNames = indexNames
    self.hide = hide
    self.precompressed = precompressed
    self.browse = browse
  }
}

/// The body of a file response. A file is handed over open, not read, so the connection can stream it
/// with back-pressure; small generated bodies come as bytes.
public enum FileBody: Sendable, Equatable {
  case none
  /// A small generated body (the 416 message, a directory listing).
  case bytes([UInt8])
  /// An open file (`O_RDONLY | O_CLOEXEC`) and the part of it to send. The caller reads and closes it.
  case file(descriptor: Int32, offset: Int, length: Int)
}

/// What `FileServer.respond` decided: status, fields and body. The caller adds Content-Length (from
/// `contentLength`), Date and Connection, because those belong to the connection, not to the file.
public struct FileResponse: Sendable {
  public var status: Int
  /// Every field except Content-Length, Date and Connection.
  public var fields: [(name: String, value: String)]
  /// The length of the body as sent; for HEAD, what GET would send.
  public var contentLength: Int
  /// `.none` for HEAD and for every status without content (304, 308, 4xx other than 416).
  public var body: FileBody

  public init(status: Int, fields: [(name: String, value: String)] = [], contentLength: Int = 0, body: FileBody = .none) {
    self.status = status
    self.fields = fields
    self.contentLength = contentLength
    self.body = body
  }

  /// The first value of the field `name` (case-insensitive), for callers and tests.
  public func field(_ name: String) -> String? {
    fields.first { $0.name.lowercased() == name.lowercased() }?.value
  }
}

/// Why a request cannot be answered with a file; each maps to one status without a body.
fileprivate enum FileServerError: Error, Equatable {
  /// An invalid percent-escape, NUL or non-UTF-8 bytes in the path.
  case badRequest
  /// Missing, hidden, a dotfile, outside the root, or not a regular file.
  case notFound
  /// The file exists and the server may not read it.
  case forbidden

  var status: Int {
    switch self {
    case .badRequest: 400
    case .notFound: 404
    case .forbidden: 403
    }
  }
}

/// Serves static files: resolves a request path safely under a root, picks the file (index, precompressed
/// variant), evaluates conditional and range requests, and hands back an open descriptor. It only stats and
/// opens, never reads, so it can run on the connection's event loop.
public enum FileServer {
  /// Answers `method` on `path` (percent-encoded, without query, after any `handle_path` stripping).
  /// A directory listing reads its order and page from `query` (without `?`) and shows `listingPath`
  /// (percent-encoded: the path the client asked for, before any stripping; default `path`) as its title.
  public static func respond(
    method: String, path: String, query: String = "", listingPath: String? = nil, headers: HTTPHeaders,
    options: FileServerOptions
  ) -> FileResponse {
    guard method == "GET" || method == "HEAD" else {
      return FileResponse(status: 405, fields: [("Allow", "GET, HEAD")])
    }
    do {
      let browse = BrowseRequest(query: query, path: listingPath ?? path)
      return try serve(head: method == "HEAD", path: path, browse: browse, headers: headers, options: options)
    } catch {
      return FileResponse(status: error.status)
    }
  }

  private static func serve(head: Bool, path: String, browse: BrowseRequest, headers: HTTPHeaders, options: FileServerOptions)
    throws(FileServerError) -> FileResponse
  {
    let request = try RequestPath(percentEncoded: path)
    guard let visibility = Visibility.cached(root: options.root, hide: options.hide) else { throw .notFound }
    let root = visibility.root
    let jail = visibility.jail

    var lexical = request.segments.isEmpty ? root : FileSystem.join(root, request.segments.joined(separator: "/"))
    guard !jail.hides(lexical: lexical) else { throw .notFound }
    var info = try FileSystem.info(lexical)
    var name = request.segments.last ?? ""
    if info.kind == .directory {
      guard request.trailingSlash else {
        return FileResponse(status: 308, fields: [("Location", redirectLocation(path))])
      }
      guard let index = try findIndex(in: lexical, names: options.indexNames, jail: jail) else {
        guard options.browse else { throw .notFound }
        try FileSystem.checkReadable(lexical)
        guard let listing = listing(of: lexical, browse, head: head, headers: headers, options: options) else {
          throw .notFound
        }
        return listing
      }
      (lexical, info, name) = index
    } else if info.kind != .regular || request.trailingSlash {
      throw .notFound
    }
    let canonical = try jail.confine(lexical)

    let contentType = MediaTypes.contentType(forName: name)
    var selected = SelectedFile(path: canonical, info: info, contentType: contentType, encoding: nil)
    if let variant = precompressedVariant(of: lexical, options: options, headers: headers, jail: jail, contentType: contentType) {
      selected = variant
    }
    let plan = ResponsePlan.make(for: selected, head: head, headers: headers, vary: !options.precompressed.isEmpty)
    return try attachBody(plan, file: selected, head: head, headers: headers, vary: !options.precompressed.isEmpty)
  }

  /// The first index file of `directory` that is a regular file and not hidden. Permission denied on a
  /// candidate is a 403, as for a file named directly.
  private static func findIndex(in directory: String, names: [String], jail: Jail) throws(FileServerError)
    -> (path: String, info: FileInfo, name: String)?
  {
    for name in names where !name.isEmpty {
      let candidate = FileSystem.join(directory, name)
      if jail.hides(lexical: candidate) { continue }
      do {
        let info = try FileSystem.info(candidate)
        if info.kind == .regular { return (candidate, info, name) }
      } catch {
        if error == .forbidden { throw error }
      }
    }
    return nil
  }

  /// The sidecar file (`<file>.br`, `.zst`, `.gz`) of the first configured encoding the client accepts, when
  /// it is a regular file inside the root. Any problem with a sidecar falls back to the plain file.
  private static func precompressedVariant(
    of lexical: String, options: FileServerOptions, headers: HTTPHeaders, jail: Jail, contentType: String
  ) -> SelectedFile? {
    guard !options.precompressed.isEmpty else { return nil }
    let accepted = AcceptEncoding(headers.values("accept-encoding"))
    for encoding in options.precompressed {
      guard let suffix = AcceptEncoding.suffixes[encoding], accepted.accepts(encoding) else { continue }
      let candidate = lexical + suffix
      guard !jail.hides(lexical: candidate),
        let info = try? FileSystem.info(candidate), info.kind == .regular,
        let canonical = try? jail.confine(candidate)
      else { continue }
      return SelectedFile(path: canonical, info: info, contentType: contentType, encoding: encoding)
    }
    return nil
  }

  /// Opens the file when the plan sends part of it; otherwise only checks that it could be read, so a HEAD
  /// or a 304 for an unreadable file is a 403 like its GET. The descriptor is checked to be the file that
  /// was stat'ed; if the file changed in place since, the plan is made again from the open file.
  private static func attachBody(_ plan: ResponsePlan, file: SelectedFile, head: Bool, headers: HTTPHeaders, vary: Bool)
    throws(FileServerError) -> FileResponse
  {
    guard let planned = plan.fileRange else {
      try FileSystem.checkReadable(file.path)
      return plan.response
    }
    let descriptor = try FileSystem.openForReading(file.path, expecting: file.info)
    var plan = plan
    var range = planned
    if descriptor.info != file.info {
      var changed = file
      changed.info = descriptor.info
      plan = ResponsePlan.make(for: changed, head: head, headers: headers, vary: vary)
      guard let newRange = plan.fileRange else {
        close(descriptor.fd)
        return plan.response
      }
      range = newRange
    }
    var response = plan.response
    response.body = .file(descriptor: descriptor.fd, offset: range.offset, length: range.length)
    return response
  }

  /// `<path>/` for a directory named without its slash, keeping the client's encoding. Leading slashes and
  /// backslashes collapse to one so `//host` cannot turn into a redirect to another site.
  static func redirectLocation(_ path: String) -> String {
    let rest = path.drop { $0 == "/" || $0 == "\\" }
    return "/" + rest + "/"
  }
}

// MARK: - The request path

/// A request path decoded into safe segments: no empty, `.` or `..` segment, none starting with a dot.
fileprivate struct RequestPath: Equatable {
  var segments: [String]
  /// Whether the decoded path ends with `/` (a directory was asked for).
  var trailingSlash: Bool

  /// Decodes `%XX` escapes (an invalid escape, NUL or non-UTF-8 → 400), splits on `/` (an encoded slash
  /// splits too), and resolves `..` lexically: climbing above the root or naming a dotfile → 404.
  init(percentEncoded path: String) throws(FileServerError) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(path.utf8.count)
    var iterator = path.utf8.makeIterator()
    while let byte = iterator.next() {
      if byte == UInt8(ascii: "%") {
        guard let high = iterator.next().flatMap(MatchPath.hexValue), let low = iterator.next().flatMap(MatchPath.hexValue) else {
          throw .badRequest
        }
        bytes.append(high << 4 | low)
      } else {
        bytes.append(byte)
      }
    }
    guard !bytes.contains(0), let decoded = String(validating: bytes, as: UTF8.self) else { throw .badRequest }
    var segments: [String] = []
    for part in decoded.split(separator: "/", omittingEmptySubsequences: true) {
      switch part {
      case ".": continue
      case "..":
        guard !segments.isEmpty else { throw .notFound }
        segments.removeLast()
      default:
        guard !part.hasPrefix(".") else { throw .notFound }
        segments.append(String(part))
      }
    }
    self.segments = segments
    trailingSlash = decoded.isEmpty || decoded.hasSuffix("/")
  }
}

// MARK: - Confinement

/// The `hide` list, split once per request into names (matched against every path component) and path
/// prefixes (matched on component boundaries).
fileprivate struct HideRules {
  var names: Set<String> = []
  var prefixes: [String] = []

  init(_ entries: [String], root: String) {
    for entry in entries {
      var entry = Substring(entry)
      while entry.count > 1, entry.hasSuffix("/") { entry.removeLast() }
      if entry.isEmpty { continue }
      if !entry.contains("/") {
        names.insert(String(entry))
      } else if entry.hasPrefix("/") {
        prefixes.append(String(entry))
      } else {
        prefixes.append(FileSystem.join(root, String(entry)))
      }
    }
  }

  /// Whether `full` (a path in the file system) or any of its `components` below the root is hidden.
  func hides(full: String, components: some Sequence<Substring>) -> Bool {
    if !names.isEmpty, components.contains(where: { names.contains(String($0)) }) { return true }
    return prefixes.contains { prefix in
      prefix == "/" || full == prefix || full.hasPrefix(prefix + "/")
    }
  }
}

/// The root a request may not leave: the lexical and the symlink-resolved forms, and the hide rules.
fileprivate struct Jail {
  var root: String
  var realRoot: String
  var hide: HideRules

  /// Whether the lexical path `path` (under `root`) is hidden.
  func hides(lexical path: String) -> Bool {
    hide.hides(full: path, components: Self.components(of: path, under: root))
  }

  /// The symlink-resolved form of `path`, checked to lie inside the resolved root, to name no dotfile
  /// below it and not to be hidden: a symlink cannot reach outside the root or into `.git`.
  func confine(_ path: String) throws(FileServerError) -> String {
    guard let real = FileSystem.realPath(path) else { throw .notFound }
    guard realRoot == "/" || real.hasPrefix(realRoot + "/") else { throw .notFound }
    let below = Self.components(of: real, under: realRoot)
    guard !below.contains(where: { $0.hasPrefix(".") }), !hide.hides(full: real, components: below) else {
      throw .notFound
    }
    return real
  }

  /// The components of `path` after its `base` prefix.
  static func components(of path: String, under base: String) -> [Substring] {
    let rest = path.hasPrefix(base) ? path.dropFirst(base.count) : Substring(path)
    return rest.split(separator: "/")
  }
}

// MARK: - Visibility

extension FileServer {
  /// What the file server hides under one root, for code beside it (directory listings) that must hide
  /// exactly the same: it is the server's own jail, not a second set of rules.
  struct Visibility {
    /// The root as the server uses it: trailing slashes removed, empty meaning `.`.
    let root: String
    fileprivate let jail: Jail

    /// nil when the root cannot be resolved (the server then answers 404 to everything).
    init?(root: String, hide: [String]) {
      let root = FileSystem.trimmedRoot(root)
      guard let realRoot = FileSystem.realPath(root) else { return nil }
      self.root = root
      jail = Jail(root: root, realRoot: realRoot, hide: HideRules(hide, root: root))
    }

    /// Whether the entry `name` of `directory` (a lexical path under the root) is hidden: a dotfile, whose
    /// request path the server refuses, or matched by `hide`.
    func isHidden(name: String, in directory: String) -> Bool {
      name.hasPrefix(".") || jail.hides(lexical: FileSystem.join(directory, name))
    }

    /// Whether the lexical path `path` under the root is hidden by `hide`.
    func isHidden(lexical path: String) -> Bool { jail.hides(lexical: path) }

    /// The symlink-resolved form of `path` when the server would follow it there: strictly inside the
    /// root, through no dotfile, not hidden. nil otherwise.
    func confined(_ path: String) -> String? { try? jail.confine(path) }

    /// Whether `path` resolves to the root itself, which `confined` does not accept.
    func isRoot(_ path: String) -> Bool { FileSystem.realPath(path) == jail.realRoot }

    /// The visibility of a root as resolved at most a second ago: resolving the root (`realpath`, one
    /// `readlink` per component) for every request was 12% of a small file's cost. A root that is a
    /// symlink switched to a new release is followed within a second.
    static func cached(root: String, hide: [String]) -> Visibility? {
      let now = monotonicNanoseconds()
      let key = VisibilityKey(root: root, hide: hide)
      if let entry = cache.withLock({ $0[key] }), now < entry.expires { return entry.visibility }
      let fresh = Visibility(root: root, hide: hide)
      cache.withLock { cache in
        if cache.count > 1000 { cache.removeAll() }
        cache[key] = (fresh, now + 1_000_000_000)
      }
      return fresh
    }

    private struct VisibilityKey: Hashable {
      let root: String
      let hide: [String]
    }
    private static let cache = Locked<[VisibilityKey: (visibility: Visibility?, expires: UInt64)]>([:])
  }
}

// MARK: - File system

/// What the server needs to know about a file, from `stat` or `fstat`.
fileprivate struct FileInfo: Equatable {
  enum Kind { case regular, directory, other }
  var kind: Kind
  var device: UInt64
  var inode: UInt64
  var size: Int
  /// Modification time, whole seconds since the epoch.
  var modified: Int

  init(_ st: stat) {
    switch st.st_mode & S_IFMT {
    case S_IFREG: kind = .regular
    case S_IFDIR: kind = .directory
    default: kind = .other
    }
    device = UInt64(st.st_dev)
    inode = UInt64(st.st_ino)
    size = Int(st.st_size)
    #if canImport(Darwin)
      modified = Int(st.st_mtimespec.tv_sec)
    #else
      modified = Int(st.st_mtim.tv_sec)
    #endif
  }
}

/// The few system calls the server makes, with errno mapped to statuses.
fileprivate enum FileSystem {
  /// `root` without trailing slashes (`/` stays `/`; empty means the working directory).
  static func trimmedRoot(_ root: String) -> String {
    var trimmed = Substring(root)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    return trimmed.isEmpty ? "." : String(trimmed)
  }

  /// `base/name`, without doubling the slash when `base` is `/`.
  static func join(_ base: String, _ name: String) -> String {
    base.hasSuffix("/") ? base + name : base + "/" + name
  }

  /// `stat(2)` (following symlinks): permission denied → 403, anything else → 404.
  static func info(_ path: String) throws(FileServerError) -> FileInfo {
    var st = stat()
    guard stat(path, &st) == 0 else { throw errno == EACCES ? .forbidden : .notFound }
    return FileInfo(st)
  }

  /// `realpath(3)`, or nil when the path cannot be resolved.
  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  /// Whether this process may read `path`, without opening it.
  static func checkReadable(_ path: String) throws(FileServerError) {
    guard faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0 else { throw errno == EACCES ? .forbidden : .notFound }
  }

  /// Opens `path` (already symlink-resolved, so the last component must not be a link now) and checks it
  /// is still the regular file `expected` describes; the descriptor is closed on every failure.
  static func openForReading(_ path: String, expecting expected: FileInfo) throws(FileServerError) -> (fd: Int32, info: FileInfo) {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    guard fd >= 0 else { throw errno == EACCES ? .forbidden : .notFound }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      close(fd)
      throw .notFound
    }
    let info = FileInfo(st)
    guard info.kind == .regular, info.device == expected.device, info.inode == expected.inode else {
      close(fd)
      throw .notFound
    }
    return (fd, info)
  }
}

// MARK: - The response

/// The file chosen for a request, and how to label it.
fileprivate struct SelectedFile {
  /// The symlink-resolved path, the one opened.
  var path: String
  var info: FileInfo
  /// From the name that was asked for (the original's for a precompressed variant).
  var contentType: String
  /// The Content-Encoding of a precompressed variant.
  var encoding: String?
}

/// Status, fields and, when file bytes are to be sent, which ones; made from metadata alone so it can be
/// made again if the file turns out to have changed when opened.
fileprivate struct ResponsePlan {
  var response: FileResponse
  var fileRange: (offset: Int, length: Int)?

  static let unsatisfiableMessage = Array("Range Not Satisfiable\n".utf8)

  static func make(for file: SelectedFile, head: Bool, headers: HTTPHeaders, vary: Bool) -> ResponsePlan {
    let size = file.info.size
    let etag = "\"" + String(file.info.modified, radix: 16) + String(size, radix: 16) + "\""
    let lastModified = HTTPDate.format(file.info.modified)
    var validators: [(name: String, value: String)] = []
    if vary { validators.append(("Vary", "Accept-Encoding")) }
    validators.append(("Last-Modified", lastModified))
    validators.append(("ETag", etag))

    switch Preconditions.evaluate(headers, etag: etag, modified: file.info.modified) {
    case .failed: return ResponsePlan(response: FileResponse(status: 412))
    case .notModified: return ResponsePlan(response: FileResponse(status: 304, fields: validators))
    case .proceed: break
    }

    var fields: [(name: String, value: String)] = [("Content-Type", file.contentType)]
    if let encoding = file.encoding { fields.append(("Content-Encoding", encoding)) }
    fields += validators
    fields.append(("Accept-Ranges", "bytes"))

    var status = 200
    var offset = 0
    var length = size
    if size > 0, let range = headers["range"], headers.values("range").count == 1,
      Preconditions.ifRangeAllows(headers["if-range"], etag: etag, modified: file.info.modified)
    {
      switch ByteRange.evaluate(range, size: size) {
      case .full: break
      case .partial(let start, let count):
        status = 206
        offset = start
        length = count
        fields.append(("Content-Range", "bytes \(start)-\(start + count - 1)/\(size)"))
      case .unsatisfiable:
        let message = unsatisfiableMessage
        var response = FileResponse(
          status: 416,
          fields: [("Content-Type", "text/plain; charset=utf-8"), ("Content-Range", "bytes */\(size)")],
          contentLength: message.count)
        if vary { response.fields.append(("Vary", "Accept-Encoding")) }
        if !head { response.body = .bytes(message) }
        return ResponsePlan(response: response)
      }
    }
    let response = FileResponse(status: status, fields: fields, contentLength: length)
    return ResponsePlan(response: response, fileRange: head || length == 0 ? nil : (offset, length))
  }
}

// MARK: - Conditional requests

/// RFC 9110 §13.2.2: If-Match, then If-Unmodified-Since, then If-None-Match, then If-Modified-Since.
fileprivate enum Preconditions {
  enum Outcome { case proceed, notModified, failed }

  static func evaluate(_ headers: HTTPHeaders, etag: String, modified: Int) -> Outcome {
    if headers.contains("if-match") {
      if !EntityTag.list(headers.values("if-match"), matches: etag, strong: true) { return .failed }
    } else if let value = headers["if-unmodified-since"], let date = HTTPDateParser.parse(value), modified > date {
      return .failed
    }
    if headers.contains("if-none-match") {
      if EntityTag.list(headers.values("if-none-match"), matches: etag, strong: false) { return .notModified }
    } else if let value = headers["if-modified-since"], let date = HTTPDateParser.parse(value), modified <= date {
      return .notModified
    }
    return .proceed
  }

  /// Whether a Range may be honoured: no If-Range, or one that names the current representation (a strong
  /// ETag, or exactly its Last-Modified date). Otherwise the whole file is sent.
  static func ifRangeAllows(_ value: String?, etag: String, modified: Int) -> Bool {
    guard let value else { return true }
    if value.hasPrefix("\"") || value.hasPrefix("W/") {
      return EntityTag.list([value], matches: etag, strong: true)
    }
    return HTTPDateParser.parse(value) == modified
  }
}

/// An entity tag as it appears in If-Match, If-None-Match and If-Range.
fileprivate struct EntityTag: Equatable {
  var weak: Bool
  /// With its quotes.
  var opaque: Substring

  /// Whether `values` (field values, `*` or a list of tags) matches `etag` (ours, strong): strong comparison
  /// ignores weak tags; weak comparison compares the opaque parts only. A malformed tail is ignored.
  static func list(_ values: [String], matches etag: String, strong: Bool) -> Bool {
    for value in values {
      if value.trimmingOWS == "*" { return true }
      for tag in parse(value) where tag.opaque == etag[...] {
        if !strong || !tag.weak { return true }
      }
    }
    return false
  }

  /// The tags of one comma-separated list, up to the first malformed element (a tag may contain commas).
  static func parse(_ value: String) -> [EntityTag] {
    var tags: [EntityTag] = []
    var rest = Substring(value)
    while true {
      rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
      if rest.isEmpty { return tags }
      var weak = false
      if rest.hasPrefix("W/") {
        weak = true
        rest = rest.dropFirst(2)
      }
      guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else { return tags }
      tags.append(EntityTag(weak: weak, opaque: rest[...close]))
      rest = rest[rest.index(after: close)...]
    }
  }
}

fileprivate extension StringProtocol {
  /// Without leading and trailing spaces and tabs.
  var trimmingOWS: Substring {
    let s = self[...].drop { $0 == " " || $0 == "\t" }
    var end = s.endIndex
    while end > s.startIndex, s[s.index(before: end)] == " " || s[s.index(before: end)] == "\t" { end = s.index(before: end) }
    return Substring(s[..<end])
  }
}

/// Reads the three HTTP-date forms recipients must accept (RFC 9110 §5.6.7): IMF-fixdate, RFC 850, asctime.
fileprivate enum HTTPDateParser {
  private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

  /// Seconds since the epoch, or nil if `value` is not an HTTP-date.
  static func parse(_ value: String) -> Int? {
    let parts = value.split(separator: " ")
    var day: Substring, month: Substring, year: Substring, time: Substring
    switch parts.count {
    case 6 where parts[0].hasSuffix(",") && parts[5] == "GMT":  // Sun, 06 Nov 1994 08:49:37 GMT
      (day, month, year, time) = (parts[1], parts[2], parts[3], parts[4])
    case 4 where parts[0].hasSuffix(",") && parts[3] == "GMT":  // Sunday, 06-Nov-94 08:49:37 GMT
      let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
      guard date.count == 3 else { return nil }
      (day, month, year, time) = (date[0], date[1], date[2], parts[2])
    case 5:  // Sun Nov  6 08:49:37 1994
      (day, month, year, time) = (parts[2], parts[1], parts[4], parts[3])
    default: return nil
    }
    let clock = time.split(separator: ":", omittingEmptySubsequences: false)
    guard let d = number(day, digits: 1...2), let monthIndex = months.firstIndex(of: month.lowercased()),
      var y = number(year, digits: 2...4), year.count != 3, clock.count == 3,
      let h = number(clock[0], digits: 2...2), let m = number(clock[1], digits: 2...2), let s = number(clock[2], digits: 2...2),
      (1...31).contains(d), h < 24, m < 60, s <= 60
    else { return nil }
    if year.count == 2 { y += y < 70 ? 2000 : 1900 }
    return daysFromCivil(year: y, month: monthIndex + 1, day: d) * 86_400 + h * 3600 + m * 60 + s
  }

  private static func number(_ text: Substring, digits: ClosedRange<Int>) -> Int? {
    guard digits.contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(text)
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }
}

// MARK: - Ranges

/// A `Range: bytes=…` request against a file of known size. Only one range is served; a list of several is
/// answered with the whole file, which RFC 9110 §14.2 allows.
fileprivate enum ByteRange: Equatable {
  case full
  case partial(offset: Int, length: Int)
  case unsatisfiable

  /// `.full` for anything malformed (the header is then ignored), several ranges or another unit.
  static func evaluate(_ header: String, size: Int) -> ByteRange {
    let value = header.trimmingOWS
    guard value.count > 6, value.prefix(6).lowercased() == "bytes=" else { return .full }
    let spec = value.dropFirst(6).trimmingOWS
    guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .full }
    let first = spec[..<dash]
    let last = spec[spec.index(after: dash)...]
    if first.isEmpty {
      guard let suffix = digits(last) else { return .full }
      guard suffix > 0 else { return .unsatisfiable }
      let length = min(suffix, size)
      return .partial(offset: size - length, length: length)
    }
    guard let start = digits(first) else { return .full }
    var end = size - 1
    if !last.isEmpty {
      guard let parsed = digits(last), parsed >= start else { return .full }
      end = min(parsed, size - 1)
    }
    guard start < size else { return .unsatisfiable }
    return .partial(offset: start, length: end - start + 1)
  }

  /// A decimal number, saturating at `Int.max` (a huge position is past any end, not an error).
  private static func digits(_ text: Substring) -> Int? {
    guard !text.isEmpty else { return nil }
    var value = 0
    for byte in text.utf8 {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
      value = overflow1 || overflow2 ? Int.max : sum
    }
    return value
  }
}

// MARK: - Content negotiation

/// The codings an `Accept-Encoding` field accepts: listed with a q-value other than 0. `*` is not
/// honoured: a sidecar is sent only to a client that names its coding.
fileprivate struct AcceptEncoding {
  /// The file-name suffix of each precompressed encoding.
  static let suffixes = ["br": ".br", "zstd": ".zst", "gzip": ".gz"]

  var accepted: Set<String> = []

  init(_ values: [String]) {
    for value in values {
      for element in value.split(separator: ",") {
        let parts = element.split(separator: ";")
        guard let coding = parts.first?.trimmingOWS.lowercased(), !coding.isEmpty else { continue }
        let refused = parts.dropFirst().contains { parameter in
          let pair = parameter.trimmingOWS
          guard pair.lowercased().hasPrefix("q=") else { return false }
          return Double(pair.dropFirst(2)) == 0
        }
        if !refused { accepted.insert(coding) }
      }
    }
  }

  func accepts(_ coding: String) -> Bool { accepted.contains(coding) }
}

/// Content-Type by file extension; text types carry `charset=utf-8`.
fileprivate enum MediaTypes {
  static let byExtension: [String: String] = [
    "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
    "json": "application/json; charset=utf-8", "map": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8", "txt": "text/plain; charset=utf-8", "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8", "svg": "image/svg+xml; charset=utf-8",
    "webmanifest": "application/manifest+json; charset=utf-8",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "avif": "image/avif", "ico": "image/x-icon", "bmp": "image/bmp",
    "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    "mp4": "video/mp4", "webm": "video/webm", "ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav",
    "flac": "audio/flac", "m4a": "audio/mp4",
    "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip", "tar": "application/x-tar",
    "wasm": "application/wasm", "torrent": "application/x-bittorrent",
  ]

  /// The type for the file `name` (its last path component); unknown → `application/octet-stream`.
  static func contentType(forName name: String) -> String {
    let file = name.split(separator: "/").last ?? ""
    guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return "application/octet-stream" }
    return byExtension[file[file.index(after: dot)...].lowercased()] ?? "application/octet-stream"
  }
}
