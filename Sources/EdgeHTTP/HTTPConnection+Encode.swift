import EdgeConfig
import EdgeEncode
import EdgeHTTP1

/// What `encode` does to one response.
enum EncodeDecision: Equatable {
  /// `encode` does not apply (not configured, or a response it never compresses): sent as it is.
  case unchanged
  /// A response `encode` compresses for clients that accept it, sent as it is to this one (or to HEAD):
  /// only `Vary: Accept-Encoding` is added, so a cache keeps the plain and the compressed forms apart.
  case varyOnly
  /// Compressed with this coding.
  case encode(ContentCoding)

  /// Whether the response carries `Vary: Accept-Encoding`.
  var varies: Bool { self != .unchanged }
}

/// `encode zstd gzip`: which responses are compressed, with which coding, and how their fields change.
extension HTTPConnection {
  /// For a proxied response, when the site has `encode`: compressed when it is 2xx with a body (not
  /// 204/206), has no Content-Encoding of its own, a text-like type, no `Cache-Control: no-transform`,
  /// is not shorter than `minimum_length` when its length is known, and the client accepts one of the
  /// configured codings (its q-values first, then the configured order) and did not send `no-transform`.
  /// Such a response to another client, or to HEAD, and any 304 only vary.
  static func encodeDecision(for exchange: ProxyExchange, _ head: ResponseHead) -> EncodeDecision {
    guard let encoding = exchange.encoding else { return .unchanged }
    if head.status == 304 { return .varyOnly }  // RFC 9110 §15.4.5: the fields a 200 would have had
    guard (200...299).contains(head.status), head.status != 204, head.status != 206,
      head.headers["Content-Encoding"] == nil, Compressible.contentType(head.headers["Content-Type"]),
      !head.headers.containsToken("Cache-Control", "no-transform")
    else { return .unchanged }
    let request = exchange.request
    let length: Int?
    if request.method == "HEAD" {
      length = head.headers["Content-Length"].flatMap { Int($0) }
    } else {
      switch head.framing {
      case .none: return .unchanged
      case .length(let n): length = n
      case .chunked, .untilClose: length = nil
      }
    }
    if let length, length < encoding.minimumLength { return .unchanged }
    guard request.method != "HEAD", let coding = preferredCoding(request, encoding) else { return .varyOnly }
    return .encode(coding)
  }

  /// The coding the client takes among those configured, nil when none (or when it asked not to have
  /// the content transformed).
  static func preferredCoding(_ request: RequestHead, _ encoding: EncodeConfig) -> ContentCoding? {
    guard !request.headers.containsToken("Cache-Control", "no-transform") else { return nil }
    let offered = encoding.formats.compactMap(ContentCoding.init(rawValue:))
    return Compressible.preferredCoding(request.headers["Accept-Encoding"], offered: offered)
  }

  /// A streaming encoder for `coding` at the configured level; nil when its library cannot be set up.
  static func makeEncoder(_ coding: ContentCoding, _ encoding: EncodeConfig) -> (any ResponseEncoder)? {
    switch coding {
    case .gzip: GzipEncoder(level: Int32(encoding.gzipLevel ?? 6))
    case .zstd: ZstdEncoder(level: Int32(EncodeConfig.zstdLevelNumber(encoding.zstdLevel) ?? 3))
    }
  }

  /// The fields of a response that is sent compressed with `coding`: its length goes (the body is
  /// re-framed), Content-Encoding and Vary are set, a strong ETag becomes weak (the bytes differ from the
  /// resource's) and Accept-Ranges goes (ranges of the compressed bytes are not offered).
  static func markEncoded(_ headers: inout HTTPHeaders, _ coding: ContentCoding) {
    headers.remove("Content-Length")
    headers.remove("Accept-Ranges")
    headers.set("Content-Encoding", coding.rawValue)
    addVary(&headers)
    if let etag = headers["ETag"], !etag.hasPrefix("W/") { headers.set("ETag", "W/" + etag) }
  }

  /// `Vary: Accept-Encoding`, unless the response already varies on it (or on everything).
  static func addVary(_ headers: inout HTTPHeaders) {
    if !headers.containsToken("Vary", "Accept-Encoding") && !headers.containsToken("Vary", "*") {
      headers.add("Vary", "Accept-Encoding")
    }
  }

  /// A whole local body (`respond`, a directory listing) as `encode` allows it: compressed when it is
  /// not empty, not shorter than `minimum_length`, its status is 2xx (not 204) or an error, and the client
  /// accepts a configured coding. Returns the body and the fields to add: Content-Encoding and Vary, or
  /// Vary alone when the client took it plain.
  func encodeLocal(_ body: [UInt8], status: Int, request: RequestHead, encoding: EncodeConfig?) -> ([UInt8], [HeaderOperation]) {
    guard let encoding, body.count >= encoding.minimumLength, body.count > 0,
      (200...299).contains(status) || status >= 400, status != 204
    else { return (body, []) }
    let vary = HeaderOperation(kind: .add, name: "Vary", value: "Accept-Encoding")
    guard let coding = Self.preferredCoding(request, encoding), let compressed = Self.compress(body, coding, encoding) else {
      return (body, [vary])
    }
    return (compressed, [HeaderOperation(kind: .set, name: "Content-Encoding", value: coding.rawValue), vary])
  }

  private static func compress(_ body: [UInt8], _ coding: ContentCoding, _ encoding: EncodeConfig) -> [UInt8]? {
    switch coding {
    case .gzip: GzipEncoder.compress(body, level: Int32(encoding.gzipLevel ?? 6))
    case .zstd: ZstdEncoder.compress(body, level: Int32(EncodeConfig.zstdLevelNumber(encoding.zstdLevel) ?? 3))
    }
  }
}
