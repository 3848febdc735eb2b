extension DirectoryListing {
  /// A self-contained HTML5 page: no script, no external asset. File names reach it HTML-escaped, and
  /// links percent-encoded per segment, so a name like `a b?#<x>.txt` is a working, inert link.
  public func html() -> [UInt8] {
    let title = "Index of " + Self.escaped(path)
    var page = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(title)</title>
      <style>
      body{font:15px/1.5 system-ui,sans-serif;max-width:64em;margin:2em auto;padding:0 1em;color:#222;background:#fff}
      h1{font-size:1.25em;font-weight:600;overflow-wrap:anywhere}
      table{border-collapse:collapse;width:100%}
      th,td{padding:.3em .6em;text-align:left;border-bottom:1px solid #ddd}
      td:first-child{overflow-wrap:anywhere}
      .n{text-align:right;white-space:nowrap}
      time{white-space:nowrap;font-variant-numeric:tabular-nums}
      a{color:#0b57d0;text-decoration:none}
      a:hover{text-decoration:underline}
      th a{color:inherit}
      footer{color:#666;font-size:.9em;margin-top:1em}
      @media (prefers-color-scheme:dark){
      body{color:#ddd;background:#16181c}a{color:#8ab4f8}th,td{border-color:#333}footer{color:#999}}
      </style>
      </head>
      <body>
      <h1>\(title)</h1>
      <table>
      <thead><tr>\(header("Name", .name))\(header("Size", .size, numeric: true))\(header("Modified", .time))</tr></thead>
      <tbody>

      """
    if path != "/" {
      page += "<tr><td><a href=\"../\">../</a></td><td class=\"n\"></td><td></td></tr>\n"
    }
    var directories = 0
    for entry in entries {
      if entry.isDirectory { directories += 1 }
      let slash = entry.isDirectory ? "/" : ""
      let href = "./" + Self.percentEncoded(entry.name) + slash
      let link = entry.isSymlink ? " <small title=\"symbolic link\">&#8594;</small>" : ""
      let size = entry.isDirectory ? "&#8212;" : Self.humanSize(entry.size)
      let time = Self.timestamp(entry.modified)
      page += "<tr><td><a href=\"\(Self.escaped(href))\">\(Self.escaped(entry.name + slash))</a>\(link)</td>"
      page += "<td class=\"n\">\(size)</td><td><time datetime=\"\(time)\">\(time)</time></td></tr>\n"
    }
    let files = entries.count - directories
    page += """
      </tbody>
      </table>
      <footer>\(directories) \(directories == 1 ? "directory" : "directories"), \(files) \(files == 1 ? "file" : "files")</footer>
      </body>
      </html>

      """
    return Array(page.utf8)
  }

  /// A column header linking to this column's order: the other direction when it is the current one,
  /// ascending otherwise. The name column keeps whether directories come first.
  private func header(_ label: String, _ column: Sort, numeric: Bool = false) -> String {
    let current = sort == column || (column == .name && sort == .nameDirFirst)
    let key = column == .name && sort != .name ? Sort.nameDirFirst : column
    let order = current && ascending ? "desc" : "asc"
    let state = current ? " aria-sort=\"\(ascending ? "ascending" : "descending")\"" : ""
    let arrow = current ? (ascending ? " &#8593;" : " &#8595;") : ""
    let style = numeric ? " class=\"n\"" : ""
    return "<th\(style)\(state)><a href=\"?sort=\(key.rawValue)&amp;order=\(order)\">\(label)</a>\(arrow)</th>"
  }

  /// `text` safe in HTML content and in quoted attribute values.
  static func escaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// One path segment with every byte but RFC 3986's unreserved ones percent-encoded, so `?`, `#`, `/`,
  /// `:` and `%` in a name stay part of the name.
  static func percentEncoded(_ segment: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(segment.utf8.count)
    for byte in segment.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        out.append(byte)
      default:
        out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Binary units, as Caddy's listing shows them: `512 B`, `1.5 KiB`, `23 MiB`.
  static func humanSize(_ bytes: Int) -> String {
    guard bytes >= 1024 else { return "\(bytes) B" }
    let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var value = Double(bytes) / 1024
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    let tenths = Int((value * 10).rounded())
    return tenths < 100 ? "\(tenths / 10).\(tenths % 10) \(units[unit])" : "\(Int(value.rounded())) \(units[unit])"
  }
}
