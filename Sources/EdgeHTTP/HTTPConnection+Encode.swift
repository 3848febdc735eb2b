import EdgeConfig
import EdgeEncode
import EdgeHTTP1

/// `encode gzip`: which responses are compressed, and how their fields change.
extension HTTPConnection {
  /// A gzip encoder for a proxied response, when the site asks for `encode`, the client accepts gzip,
  /// and the response is worth it: 2xx with a body (not 204/206), no Content-Encoding of its own, a
  /// text-like type, no `Cache-Control: no-transform`, not shorter than `minimum_length` when its length
  /// is known, not an answer to HEAD.
  static func encoder(for exchange: ProxyExchange, _ head: ResponseHead) -> GzipEncoder? {
    guard let encoding = exchange.encoding, encoding.formats.contains("gzip"), exchange.request.method != "HEAD",
      Compressible.acceptsGzip(exchange.request.headers["Accept-Encoding"]),
      (200...299).contains(head.status), head.status != 204, head.status != 206,
      head.headers["Content-Encoding"] == nil, Compressible.contentType(head.headers["Content-Type"]),
      !(head.headers["Cache-Control"]?.lowercased().contains("no-transform") ?? false)
    else { return nil }
    switch head.framing {
    case .none: return nil
    case .length(let n) where n < encoding.minimumLength: return nil
    default: return GzipEncoder()
    }
  }

  /// The fields of a response that is sent gzip-compressed: its length goes (the body is re-framed),
  /// Content-Encoding and Vary are set, and a strong ETag becomes weak (the bytes differ from the
  /// resource's).
  static func markEncoded(_ headers: inout HTTPHeaders) {
    headers.remove("Content-Length")
    headers.set("Content-Encoding", "gzip")
    let vary = headers.values("Vary")
    if !vary.contains(where: { $0.lowercased().contains("accept-encoding") }) { headers.add("Vary", "Accept-Encoding") }
    if let etag = headers["ETag"], !etag.hasPrefix("W/") { headers.set("ETag", "W/" + etag) }
  }

  /// A local response body compressed when `encoding` allows it: the body and the fields to add.
  func encodeLocal(_ body: [UInt8], status: Int, request: RequestHead, encoding: EncodeConfig?) -> ([UInt8], [HeaderOperation]) {
    guard let encoding, encoding.formats.contains("gzip"), body.count >= encoding.minimumLength, body.count > 0,
      (200...299).contains(status) || status >= 400, status != 204,
      Compressible.acceptsGzip(request.headers["Accept-Encoding"]), let compressed = GzipEncoder.compress(body)
    else { return (body, []) }
    return (compressed, [
      HeaderOperation(kind: .set, name: "Content-Encoding", value: "gzip"),
      HeaderOperation(kind: .add, name: "Vary", value: "Accept-Encoding"),
    ])
  }
}
