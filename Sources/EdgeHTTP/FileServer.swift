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
enum FileServerError: Error, Equatable {
  /// An invalid percent-escape, NUL or non-UTF-8 bytes in the path.
  case badRequest
  /// Missing, hidden, a dotfile, outside the root, or not a regular file.
  case notFound
  /// The file exists and the server may not read it.
  case forbidden
  /// A direct lookup met a symlink (see `Jail`): the request is answered again the resolving way. Never
  /// an answer of its own (were it one, it would be a 404).
  case crossesSymlink

  var status: Int {
    switch self {
    case .badRequest: 400
    case .notFound, .crossesSymlink: 404
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
    let browse = BrowseRequest(query: query, path: listingPath ?? path)
    do {
      return try serve(head: method == "HEAD", path: path, browse: browse, headers: headers, options: options)
    } catch {
      return FileResponse(status: error.status)
    }
  }

  /// The direct way first (no `realpath`; see `Jail`), the resolving way when it meets a symlink or the
  /// kernel lacks `openat2`.
  private static func serve(head: Bool, path: String, browse: BrowseRequest, headers: HTTPHeaders, options: FileServerOptions)
    throws(FileServerError) -> FileResponse
  {
    if FileSystem.directLookups {
      do throws(FileServerError) {
        return try serve(head: head, path: path, browse: browse, headers: headers, options: options, direct: true)
      } catch {
        guard error == .crossesSymlink else { throw error }
      }
    }
    return try serve(head: head, path: path, browse: browse, headers: headers, options: options, direct: false)
  }

  private static func serve(
    head: Bool, path: String, browse: BrowseRequest, headers: HTTPHeaders, options: FileServerOptions, direct: Bool
  ) throws(FileServerError) -> FileResponse {
    let request = try RequestPath(percentEncoded: path)
    guard let visibility = Visibility.cached(root: options.root, hide: options.hide) else { throw .notFound }
    let jail = visibility.jail

    var relative = request.relative
    guard !jail.hides(relative: relative) else { throw .notFound }
    var located = jail.path(relative, direct: direct)
    var info = try FileSystem.info(located, direct: direct)
    var name = request.name
    if info.kind == .directory {
      guard request.trailingSlash else {
        return FileResponse(status: 308, fields: [("Location", redirectLocation(path))])
      }
      guard let index = try findIndex(in: relative, names: options.indexNames, jail: jail, direct: direct) else {
        guard options.browse else { throw .notFound }
        // Listings resolve every entry anyway: they take the resolving way.
        if direct { throw .crossesSymlink }
        try FileSystem.checkReadable(located, direct: false)
        guard let listing = listing(of: located, browse, head: head, headers: headers, options: options) else {
          throw .notFound
        }
        return listing
      }
      (relative, located, info, name) = index
    } else if info.kind != .regular || request.trailingSlash {
      throw .notFound
    }
    let canonical = try jail.confine(relative, at: located, direct: direct)

    let contentType = MediaTypes.contentType(forName: name)
    var selected = SelectedFile(path: canonical, info: info, contentType: contentType, encoding: nil)
    if let variant = try precompressedVariant(
      of: relative, options: options, headers: headers, jail: jail, contentType: contentType, direct: direct)
    {
      selected = variant
    }
    let vary = !options.precompressed.isEmpty
    let plan = ResponsePlan.make(for: selected, head: head, headers: headers, vary: vary)
    return try attachBody(plan, file: selected, head: head, headers: headers, vary: vary, direct: direct)
  }

  /// The first index file of `directory` (relative to the root) that is a regular file and not hidden.
  /// Permission denied on a candidate is a 403, as for a file named directly.
  private static func findIndex(in directory: String, names: [String], jail: Jail, direct: Bool) throws(FileServerError)
    -> (relative: String, located: String, info: FileInfo, name: Substring)?
  {
    for name in names where !name.isEmpty {
      let candidate = directory.isEmpty ? name : directory + "/" + name
      if jail.hides(relative: candidate) { continue }
      let located = jail.path(candidate, direct: direct)
      do throws(FileServerError) {
        let info = try FileSystem.info(located, direct: direct)
        if info.kind == .regular { return (candidate, located, info, name[...]) }
      } catch {
        if error == .forbidden || error == .crossesSymlink { throw error }
      }
    }
    return nil
  }

  /// The sidecar file (`<file>.br`, `.zst`, `.gz`) of the first configured encoding the client accepts, when
  /// it is a regular file inside the root. Any problem with a sidecar falls back to the plain file.
  private static func precompressedVariant(
    of relative: String, options: FileServerOptions, headers: HTTPHeaders, jail: Jail, contentType: String, direct: Bool
  ) throws(FileServerError) -> SelectedFile? {
    guard !options.precompressed.isEmpty else { return nil }
    let accepted = AcceptEncoding(headers.values("accept-encoding"))
    for encoding in options.precompressed {
      guard let suffix = AcceptEncoding.suffixes[encoding], accepted.accepts(encoding) else { continue }
      let candidate = relative + suffix
      guard !jail.hides(relative: candidate) else { continue }
      let located = jail.path(candidate, direct: direct)
      let info: FileInfo
      do throws(FileServerError) {
        info = try FileSystem.info(located, direct: direct)
      } catch {
        if error == .crossesSymlink { throw error }
        continue
      }
      guard info.kind == .regular, let canonical = try? jail.confine(candidate, at: located, direct: direct) else { continue }
      return SelectedFile(path: canonical, info: info, contentType: contentType, encoding: encoding)
    }
    return nil
  }

  /// Opens the file when the plan sends part of it; otherwise only checks that it could be read, so a HEAD
  /// or a 304 for an unreadable file is a 403 like its GET. The descriptor is checked to be the file that
  /// was stat'ed; if the file changed in place since, the plan is made again from the open file. Either
  /// way the path is opened or checked as `direct` says, which is what makes a direct path safe to answer.
  private static func attachBody(
    _ plan: ResponsePlan, file: SelectedFile, head: Bool, headers: HTTPHeaders, vary: Bool, direct: Bool
  ) throws(FileServerError) -> FileResponse {
    guard let planned = plan.fileRange else {
      try FileSystem.checkReadable(file.path, direct: direct)
      return plan.response
    }
    let descriptor = try FileSystem.openForReading(file.path, expecting: file.info, direct: direct)
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
