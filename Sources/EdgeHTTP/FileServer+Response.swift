import EdgeCore
import EdgeHTTP1

/// The file chosen for a request, and how to label it.
struct SelectedFile {
  /// The path opened: symlink-resolved, or direct (see `Jail`).
  var path: String
  var info: FileInfo
  /// From the name that was asked for (the original's for a precompressed variant).
  var contentType: String
  /// The Content-Encoding of a precompressed variant.
  var encoding: String?
}

/// Status, fields and, when file bytes are to be sent, which ones; made from metadata alone so it can be
/// made again if the file turns out to have changed when opened.
struct ResponsePlan {
  var response: FileResponse
  var fileRange: (offset: Int, length: Int)?

  static let unsatisfiableMessage = Array("Range Not Satisfiable\n".utf8)

  static func make(for file: SelectedFile, head: Bool, headers: HTTPHeaders, vary: Bool) -> ResponsePlan {
    let size = file.info.size
    let validators = Validators.of(file.info)
    let etag = validators.etag

    let conditional = Preconditions.mayApply(headers)
    switch conditional ? Preconditions.evaluate(headers, etag: etag, modified: file.info.modified) : .proceed {
    case .failed: return ResponsePlan(response: FileResponse(status: 412))
    case .notModified:
      var fields: [(name: String, value: String)] = []
      fields.reserveCapacity(3)
      if vary { fields.append(("Vary", "Accept-Encoding")) }
      fields.append(("Last-Modified", validators.lastModified))
      fields.append(("ETag", etag))
      return ResponsePlan(response: FileResponse(status: 304, fields: fields))
    case .proceed: break
    }

    var fields: [(name: String, value: String)] = []
    fields.reserveCapacity(7)
    fields.append(("Content-Type", file.contentType))
    if let encoding = file.encoding { fields.append(("Content-Encoding", encoding)) }
    if vary { fields.append(("Vary", "Accept-Encoding")) }
    fields.append(("Last-Modified", validators.lastModified))
    fields.append(("ETag", etag))
    fields.append(("Accept-Ranges", "bytes"))

    var status = 200
    var offset = 0
    var length = size
    if size > 0, conditional, let range = headers["range"], headers.values("range").count == 1,
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

/// A file version's ETag and formatted Last-Modified. Both follow from its modification time and size
/// alone, so they are made once per version and kept (bounded): a hot file costs a lookup, not hex and
/// date formatting (3% of a small file's cost). Never stale: a changed file is another key.
struct Validators {
  let etag: String
  let lastModified: String

  static func of(_ info: FileInfo) -> Validators {
    let key = Key(modified: info.modified, size: info.size)
    if let known = cache.withLock({ $0[key] }) { return known }
    let made = Validators(
      etag: "\"" + String(info.modified, radix: 16) + String(info.size, radix: 16) + "\"",
      lastModified: HTTPDate.format(info.modified))
    cache.withLock { cache in
      if cache.count >= 4096 { cache.removeAll() }
      cache[key] = made
    }
    return made
  }

  private struct Key: Hashable {
    let modified: Int
    let size: Int
  }
  private static let cache = Locked<[Key: Validators]>([:])
}

// MARK: - Content negotiation

/// The codings an `Accept-Encoding` field accepts: listed with a q-value other than 0. `*` is not
/// honoured: a sidecar is sent only to a client that names its coding.
struct AcceptEncoding {
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
enum MediaTypes {
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
  static func contentType(forName name: Substring) -> String {
    let known = name.utf8.withContiguousStorageIfAvailable { bytes -> String? in
      let file = (bytes.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1
      guard let dot = bytes[file...].lastIndex(of: UInt8(ascii: ".")), dot != file else { return nil }
      let ext = UnsafeBufferPointer(rebasing: bytes[(dot + 1)...])
      guard ext.allSatisfy({ $0 < 0x80 }) else {
        return byExtension[String(decoding: ext, as: UTF8.self).lowercased()]
      }
      // ASCII: compared byte by byte, case folded, with the extensions of the same length (hashing it
      // for the dictionary cost several times as much).
      guard ext.count < byLength.count else { return nil }
      for (candidate, type) in byLength[ext.count] where candidate.elementsEqual(ext.lazy.map(folded)) { return type }
      return nil
    }
    return (known ?? nil) ?? octetStream
  }

  /// `byte` with an ASCII capital folded to its small letter.
  private static func folded(_ byte: UInt8) -> UInt8 { byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte }

  /// `byExtension` grouped by the length of the extension.
  static let byLength: [[(extension: [UInt8], type: String)]] = {
    var groups = [[(extension: [UInt8], type: String)]](repeating: [], count: 1 + byExtension.keys.map(\.utf8.count).max()!)
    for (ext, type) in byExtension { groups[ext.utf8.count].append((Array(ext.utf8), type)) }
    return groups
  }()

  static let octetStream = "application/octet-stream"
}
