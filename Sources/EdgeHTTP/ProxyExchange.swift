import EdgeConfig
import EdgeCore
import EdgeHTTP1
import EdgeProxy

/// The state of one proxied request: which upstream, how far the request body and the response have got.
final class ProxyExchange {
  let request: RequestHead
  let route: ProxyRoute
  let target: UpstreamTarget
  let bodyLimit: Int?
  let isUpgrade: Bool
  var upstream: UpstreamConnection?
  var attempts = 0

  var requestBody: BodyReader
  var requestBodyDone: Bool
  var requestBodyBytes = 0
  /// The request body goes upstream chunked (it came chunked).
  let chunkedUpstream: Bool

  /// The connection's buffer for upstream bytes, reused across exchanges.
  let upstreamInbound: ByteBuffer
  var responseParser = ResponseHeadParser()
  var response: ResponseHead?
  var responseBody = BodyReader.none
  var responseHeadSent = false
  var chunkedToClient = false
  var closeClientAfter = false
  var receivedAnything = false
  var responseBytes = 0

  init(request: RequestHead, route: ProxyRoute, target: UpstreamTarget, bodyLimit: Int?, upstreamInbound: ByteBuffer) {
    self.upstreamInbound = upstreamInbound
    self.request = request
    self.route = route
    self.target = target
    self.bodyLimit = bodyLimit
    self.isUpgrade = request.upgrade != nil
    self.requestBody = BodyReader(request.framing)
    self.requestBodyDone = requestBody.isNone
    if case .chunked = request.framing { chunkedUpstream = true } else { chunkedUpstream = false }
  }
}

// Invariant: an exchange lives inside one HTTPConnection and is touched only on its loop; callbacks that
// capture it re-enter the connection with `assumeIsolated` before using it.
extension ProxyExchange: @unchecked Sendable {}

/// Header fields that describe one connection, not the message (RFC 9110 §7.6.1), in lower case.
let hopByHopFields = [
  "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
]

extension HTTPHeaders {
  /// Removes the hop-by-hop fields and every field that `Connection` names.
  mutating func removeHopByHop() {
    for listed in values("connection") {
      for token in listed.split(separator: ",") {
        let name = token.trimmingSpaces()
        if !name.isEmpty { remove(name) }
      }
    }
    for name in hopByHopFields { remove(name) }
  }

  mutating func apply(_ operations: [HeaderOperation]) {
    for op in operations {
      switch op.kind {
      case .set: set(op.name, op.value)
      case .add: add(op.name, op.value)
      case .delete: remove(op.name)
      }
    }
  }
}

extension Substring {
  func trimmingSpaces() -> String {
    var s = self
    while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
    while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
    return String(s)
  }
}
