#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One directory as `file_server browse` shows it. It leaves out what the file server hides and follows a
/// symlink only where the server would follow it, so the page never points at a file the server refuses
/// or gives away what lies outside the root.
///
///     DirectoryListing.read(directory: dir, requestPath: path, hide: hide, root: root)?
///       .applying(DirectoryListing.options(query: query))
///       .html()   // or .json() for Accept: application/json
public struct DirectoryListing: Sendable, Equatable {
  /// A file, directory or symlink in the listing.
  public struct Entry: Sendable, Equatable {
    /// The file name. Names that are not UTF-8 are not listed, since they cannot be requested.
    public var name: String
    /// A directory, or a symlink the server follows to one.
    public var isDirectory: Bool
    public var isSymlink: Bool
    /// In bytes. A followed symlink has its target's size; any other symlink has its own.
    public var size: Int
    /// The entry's own modification time (a symlink's, not its target's), as seconds since the epoch.
    public var modified: Int
    /// The sub-second part of `modified`.
    public var modifiedNanoseconds: Int
    /// The entry's own `st_mode`, as `lstat` reports it.
    public var mode: UInt32

    public init(
      name: String, isDirectory: Bool, isSymlink: Bool = false, size: Int, modified: Int, modifiedNanoseconds: Int = 0,
      mode: UInt32
    ) {
      self.name = name
      self.isDirectory = isDirectory
      self.isSymlink = isSymlink
      self.size = size
      self.modified = modified
      self.modifiedNanoseconds = modifiedNanoseconds
      self.mode = mode
    }
  }

  /// The orders Caddy's `sort` query parameter names.
  public enum Sort: String, Sendable, CaseIterable {
    case name
    /// Directories first, then by name: the default.
    case nameDirFirst = "namedirfirst"
    /// Directories first (by name), then files by size.
    case size
    /// By modification time.
    case time
  }

  /// What a request's query asks of a listing.
  public struct Options: Sendable, Equatable {
    public var sort: Sort
    public var ascending: Bool
    /// At most this many entries, counted after `offset`.
    public var limit: Int?
    /// How many entries of the sorted listing to skip.
    public var offset: Int

    public init(sort: Sort = .nameDirFirst, ascending: Bool = true, limit: Int? = nil, offset: Int = 0) {
      self.sort = sort
      self.ascending = ascending
      self.limit = limit
      self.offset = offset
    }
  }

  /// The request path, decoded, starting and ending with `/`: the page's title.
  public var path: String
  public var entries: [Entry]
  /// The order of `entries`; the HTML page marks it and its column headers toggle it.
  public private(set) var sort = Sort.nameDirFirst
  public private(set) var ascending = true

  public init(path: String, entries: [Entry]) {
    self.path = Self.displayPath(path)
    self.entries = entries
  }

  /// The visible entries of `directory`, directories first. `directory` is the lexical path the file server
  /// would open (the root joined with the decoded request path); `requestPath` is the path the client asked
  /// for, percent-encoded, without the query. nil when the directory cannot be read, is hidden, or resolves
  /// outside the root.
  public static func read(directory: String, requestPath: String, hide: [String], root: String) -> DirectoryListing? {
    guard let visibility = FileServer.Visibility(root: root, hide: hide) else { return nil }
    var trimmed = Substring(directory)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    let directory = String(trimmed)
    guard !visibility.isHidden(lexical: directory),
      visibility.isRoot(directory) || visibility.confined(directory) != nil,
      let stream = opendir(directory)
    else { return nil }
    defer { closedir(stream) }

    var entries: [Entry] = []
    while let record = readdir(stream) {
      guard let name = fileName(record), !visibility.isHidden(name: name, in: directory) else { continue }
      let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      if let entry = Entry(path: path, name: name, visibility: visibility) { entries.append(entry) }
    }
    return DirectoryListing(path: decoded(requestPath), entries: entries).sorted()
  }

  /// The same listing in another order. Descending reverses the whole order, directories included, as
  /// Caddy does.
  public func sorted(by sort: Sort = .nameDirFirst, ascending: Bool = true) -> DirectoryListing {
    var listing = self
    listing.sort = sort
    listing.ascending = ascending
    listing.entries.sort { ascending ? Self.precedes($0, $1, by: sort) : Self.precedes($1, $0, by: sort) }
    return listing
  }

  /// The entries after the first `offset`, at most `limit` of them.
  public func page(offset: Int, limit: Int?) -> DirectoryListing {
    var listing = self
    let rest = entries.dropFirst(max(offset, 0))
    listing.entries = Array(limit.map { rest.prefix(max($0, 0)) } ?? rest)
    return listing
  }

  /// Sorted, then paged, as `options` asks.
  public func applying(_ options: Options) -> DirectoryListing {
    sorted(by: options.sort, ascending: options.ascending).page(offset: options.offset, limit: options.limit)
  }

  /// Reads `sort`, `order` (`asc`, `desc`), `limit` and `offset` from a query string (with or without its
  /// `?`). Unknown or malformed values are ignored; as in Caddy, only a parameter's first value counts.
  public static func options(query: String) -> Options {
    var options = Options()
    var seen: Set<Substring> = []
    for pair in query.drop(while: { $0 == "?" }).split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let value = parts.count > 1 ? String(parts[1]) : ""
      guard seen.insert(parts[0]).inserted else { continue }
      switch parts[0] {
      case "sort": options.sort = Sort(rawValue: value) ?? options.sort
      case "order" where value == "asc" || value == "desc": options.ascending = value == "asc"
      case "limit": if let n = Int(value), n > 0 { options.limit = n }
      case "offset": if let n = Int(value), n > 0 { options.offset = n }
      default: break
      }
    }
    return options
  }
}

// MARK: - Reading

extension DirectoryListing.Entry {
  /// From `lstat`; a symlink's target is stat'ed only when the file server would follow the link.
  fileprivate init?(path: String, name: String, visibility: FileServer.Visibility) {
    var own = stat()
    guard lstat(path, &own) == 0 else { return nil }
    var target = own
    let isSymlink = UInt32(own.st_mode) & UInt32(S_IFMT) == UInt32(S_IFLNK)
    if isSymlink, let real = visibility.confined(path), stat(real, &target) != 0 { target = own }
    #if canImport(Darwin)
      let mtime = own.st_mtimespec
    #else
      let mtime = own.st_mtim
    #endif
    self.init(
      name: name, isDirectory: UInt32(target.st_mode) & UInt32(S_IFMT) == UInt32(S_IFDIR), isSymlink: isSymlink,
      size: Int(target.st_size), modified: Int(mtime.tv_sec), modifiedNanoseconds: Int(mtime.tv_nsec),
      mode: UInt32(own.st_mode))
  }
}

extension DirectoryListing {
  /// The entry's name when it is valid UTF-8 and neither `.` nor `..`.
  fileprivate static func fileName(_ record: UnsafeMutablePointer<dirent>) -> String? {
    withUnsafeBytes(of: &record.pointee.d_name) { raw in
      let bytes = raw.prefix { $0 != 0 }
      guard let name = String(validating: bytes, as: UTF8.self), name != ".", name != ".." else { return nil }
      return name
    }
  }

  /// `path` with leading and trailing slashes, as a directory's title shows it.
  fileprivate static func displayPath(_ path: String) -> String {
    var path = path.hasPrefix("/") ? path : "/" + path
    if !path.hasSuffix("/") { path += "/" }
    return path
  }

  /// `path` with its `%XX` escapes decoded; unchanged when an escape is invalid or the result is not UTF-8.
  static func decoded(_ path: String) -> String {
    var bytes: [UInt8] = []
    var utf8 = path.utf8.makeIterator()
    while let byte = utf8.next() {
      guard byte == UInt8(ascii: "%") else {
        bytes.append(byte)
        continue
      }
      guard let high = utf8.next().flatMap(MatchPath.hexValue), let low = utf8.next().flatMap(MatchPath.hexValue) else { return path }
      bytes.append(high << 4 | low)
    }
    return String(validating: bytes, as: UTF8.self) ?? path
  }
}

// MARK: - Order

extension DirectoryListing {
  /// Whether `a` comes before `b` in ascending `sort`. Every order ends on the name, so it is total and
  /// a listing always reads the same.
  static func precedes(_ a: Entry, _ b: Entry, by sort: Sort) -> Bool {
    if sort == .nameDirFirst || sort == .size, a.isDirectory != b.isDirectory { return a.isDirectory }
    switch sort {
    case .size where !a.isDirectory && a.size != b.size:
      return a.size < b.size
    case .time where a.modified != b.modified || a.modifiedNanoseconds != b.modifiedNanoseconds:
      return (a.modified, a.modifiedNanoseconds) < (b.modified, b.modifiedNanoseconds)
    default:
      return namePrecedes(a.name, b.name)
    }
  }

  /// Case-insensitive, with runs of ASCII digits compared as numbers (`v2` before `v10`); names equal that
  /// way fall back to plain string order.
  static func namePrecedes(_ a: String, _ b: String) -> Bool {
    let x = Array(a.lowercased().unicodeScalars)
    let y = Array(b.lowercased().unicodeScalars)
    var i = 0
    var j = 0
    while i < x.count, j < y.count {
      guard isDigit(x[i]), isDigit(y[j]) else {
        if x[i] != y[j] { return x[i] < y[j] }
        i += 1
        j += 1
        continue
      }
      let (startX, startY) = (i, j)
      while i < x.count, isDigit(x[i]) { i += 1 }
      while j < y.count, isDigit(y[j]) { j += 1 }
      let m = x[startX..<i].drop { $0 == "0" }
      let n = y[startY..<j].drop { $0 == "0" }
      if m.count != n.count { return m.count < n.count }
      if !m.elementsEqual(n) { return m.lexicographicallyPrecedes(n) }
    }
    if (i < x.count) != (j < y.count) { return i == x.count }
    return a < b
  }

  private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
}
