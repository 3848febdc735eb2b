#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension DirectoryListing {
  /// The entries as Caddy's browse JSON has them: an array of `name` (a directory's ends with `/`), `size`,
  /// `url` (relative, `./…`), `mod_time` (RFC 3339, UTC), `mode` (Go's `os.FileMode` number), `is_dir`,
  /// `is_symlink`. An empty directory is `[]`.
  public func json() -> [UInt8] {
    var out = "["
    for (index, entry) in entries.enumerated() {
      let slash = entry.isDirectory ? "/" : ""
      out += index == 0 ? "{" : ",{"
      out += "\"name\":" + Self.jsonString(entry.name + slash)
      out += ",\"size\":\(entry.size)"
      out += ",\"url\":" + Self.jsonString("./" + Self.percentEncoded(entry.name) + slash)
      out += ",\"mod_time\":" + Self.jsonString(Self.timestamp(entry.modified, nanoseconds: entry.modifiedNanoseconds))
      out += ",\"mode\":\(entry.goFileMode)"
      out += ",\"is_dir\":\(entry.isDirectory),\"is_symlink\":\(entry.isSymlink)}"
    }
    out += "]\n"
    return Array(out.utf8)
  }

  /// A JSON string literal. `<`, `>`, `&` and the JavaScript line separators are escaped as Go's encoder
  /// escapes them, so the body stays inert if something renders it as HTML.
  static func jsonString(_ text: String) -> String {
    let hex = Array("0123456789abcdef")
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "<", ">", "&", "\u{2028}", "\u{2029}", "\u{0}"..."\u{1F}":
        let v = Int(scalar.value)
        out += "\\u" + String([hex[v >> 12 & 0xF], hex[v >> 8 & 0xF], hex[v >> 4 & 0xF], hex[v & 0xF]])
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// RFC 3339 in UTC (`2023-11-14T22:13:20Z`), with the fraction Go prints when there is one: up to nine
  /// digits, trailing zeros dropped.
  static func timestamp(_ seconds: Int, nanoseconds: Int = 0) -> String {
    var time = time_t(seconds)
    var parts = tm()
    guard gmtime_r(&time, &parts) != nil else { return "" }
    func pad(_ value: Int32, _ width: Int) -> String {
      let digits = String(value)
      return String(repeating: "0", count: max(width - digits.count, 0)) + digits
    }
    var text = pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2)
    text += "T" + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2)
    if nanoseconds > 0, nanoseconds < 1_000_000_000 {
      var fraction = Substring(pad(Int32(nanoseconds), 9))
      while fraction.hasSuffix("0") { fraction.removeLast() }
      text += "." + fraction
    }
    return text + "Z"
  }
}

extension DirectoryListing.Entry {
  /// `mode` in Go's `os.FileMode` encoding, which Caddy's JSON carries: the permission bits, then Go's own
  /// bits for the type (directory 1<<31, symlink 1<<27, …) and for setuid, setgid and sticky, not POSIX's.
  var goFileMode: UInt32 {
    var go = mode & 0o777
    switch mode & UInt32(S_IFMT) {
    case UInt32(S_IFDIR): go |= 1 << 31
    case UInt32(S_IFLNK): go |= 1 << 27
    case UInt32(S_IFBLK): go |= 1 << 26
    case UInt32(S_IFCHR): go |= 1 << 26 | 1 << 21
    case UInt32(S_IFIFO): go |= 1 << 25
    case UInt32(S_IFSOCK): go |= 1 << 24
    default: break
    }
    if mode & UInt32(S_ISUID) != 0 { go |= 1 << 23 }
    if mode & UInt32(S_ISGID) != 0 { go |= 1 << 22 }
    if mode & UInt32(S_ISVTX) != 0 { go |= 1 << 20 }
    return go
  }
}
