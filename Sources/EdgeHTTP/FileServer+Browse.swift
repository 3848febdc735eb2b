import EdgeHTTP1

/// What a directory listing takes from its request besides the directory.
struct BrowseRequest {
  /// `sort`, `order`, `limit` and `offset`, without the `?`.
  var query: String
  /// Percent-encoded; the page's title.
  var path: String
}

extension FileServer {
  /// `browse`: the listing of `directory` (a lexical path under the root that has no index file), as HTML,
  /// or as JSON when the client's `Accept` prefers `application/json`. Links in it are relative (`./name`),
  /// so it works under a stripped prefix. nil when the directory cannot be listed (hidden, outside the
  /// root, unreadable): the server then answers 404, as for a missing file.
  static func listing(
    of directory: String, _ request: BrowseRequest, head: Bool, headers: HTTPHeaders, options: FileServerOptions
  ) -> FileResponse? {
    guard
      let listing = DirectoryListing.read(directory: directory, requestPath: request.path, hide: options.hide, root: options.root)
    else { return nil }
    let page = listing.applying(DirectoryListing.options(query: request.query))
    let json = AcceptedMediaTypes(headers.values("accept")).prefersJSON
    let body = json ? page.json() : page.html()
    let type = json ? "application/json; charset=utf-8" : "text/html; charset=utf-8"
    // The same URL gives HTML or JSON by Accept: caches must keep them apart.
    return FileResponse(
      status: 200, fields: [("Content-Type", type), ("Vary", "Accept")], contentLength: body.count,
      body: head ? .none : .bytes(body))
  }
}

/// The q-values an `Accept` field gives HTML and JSON (RFC 9110 §12.5.1): a media range's q applies to
/// the types it covers, the most specific range naming a type wins. Only `application/json` itself asks
/// for JSON: a browser's `*/*` must not.
struct AcceptedMediaTypes {
  /// In thousandths; nil when no range covers the type.
  private(set) var html: Int?
  private(set) var json: Int?
  /// How specific the range that set `html` was: 2 for `text/html`, 1 for `text/*`, 0 for `*/*`.
  private var htmlSpecificity = -1

  init(_ values: [String]) {
    for value in values {
      for element in value.split(separator: ",") {
        let parts = element.split(separator: ";")
        guard let range = parts.first?.withoutOWS.lowercased(), !range.isEmpty, let q = Self.qValue(parts.dropFirst())
        else { continue }
        let specificity: Int? =
          switch range {
          case "text/html": 2
          case "text/*": 1
          case "*/*": 0
          default: nil
          }
        if let specificity, specificity > htmlSpecificity {
          (html, htmlSpecificity) = (q, specificity)
        }
        if range == "application/json", json == nil { json = q }
      }
    }
  }

  /// The `q` among a range's parameters, in thousandths (1000 when absent); nil when malformed, which
  /// drops the range.
  private static func qValue(_ parameters: some Sequence<Substring>) -> Int? {
    for parameter in parameters {
      let pair = parameter.withoutOWS.lowercased()
      guard pair.hasPrefix("q=") else { continue }
      guard let value = Double(pair.dropFirst(2)), (0...1).contains(value) else { return nil }
      return Int((value * 1000).rounded())
    }
    return 1000
  }

  /// JSON when the client names it with a q above 0 and at least HTML's; a tie goes to JSON, which it
  /// asked for by name (Caddy answers JSON whenever `application/json` appears).
  var prefersJSON: Bool {
    guard let json, json > 0 else { return false }
    return json >= (html ?? 0)
  }
}

extension Substring {
  /// Without leading and trailing spaces and tabs.
  fileprivate var withoutOWS: Substring {
    let isOWS = { (c: Character) in c == " " || c == "\t" }
    guard let first = firstIndex(where: { !isOWS($0) }), let last = lastIndex(where: { !isOWS($0) }) else { return "" }
    return self[first...last]
  }
}
