import EdgeConfig
import EdgeCore
import EdgeEncode
import EdgeHTTP1
import EdgeProxy

/// The state of one proxied request: which upstream, how far the request body and the response have got.
final class ProxyExchange {
  /// The client's request. Its headers are rewritten in place for the upstream (once); the encoded head
  /// stays in the connection's `upstreamHead` for a retry.
  var request: RequestHead
  var headEncoded = false
  let route: ProxyRoute
  /// The upstream the request goes to. Before the first pick (every upstream was unavailable and the
  /// request waits for one) it is the route's first, uncounted and unused.
  private(set) var target: UpstreamTarget
  /// The exchange counts as a request in flight to `target` (not while it waits to look again).
  private(set) var counted: Bool
  /// An upstream was picked at some point (the access log names it).
  private(set) var selected: Bool
  /// Upstreams given up on in this round of tries: unreachable, or closed before answering.
  var tried = UpstreamSet()
  /// Tries after the first, across rounds (`lb_retries`).
  var retries = 0
  /// Loop time (ms) the request started looking for an upstream (`lb_try_duration`).
  let startedAt: UInt64
  /// Waiting `lb_try_interval` before looking again.
  var waitingToRetry = false
  /// The last look found no upstream available: a 503 rather than a 502 when tries run out.
  var noneAvailable = false
  let bodyLimit: Int?
  /// The site's `header` operations, applied to the response after `header_down`.
  var responseFields: [HeaderOperation] = []
  /// `encode`, when the site has it; `encoder` compresses this response's body when a coding was chosen.
  var encoding: EncodeConfig?
  var encoder: (any ResponseEncoder)?
  let isUpgrade: Bool
  var upstream: UpstreamConnection?

  var requestBody: BodyReader
  var requestBodyDone: Bool
  var requestBodyBytes = 0
  /// Loop time (ms) the request body started to be read, when edge stopped reading it because the
  /// upstream was not taking it, and how long such pauses have lasted in all (for `min_body_rate`).
  var bodyStartedAt: UInt64 = 0
  var bodyPausedAt: UInt64?
  var bodyPausedTotal: UInt64 = 0
  /// The request body goes upstream chunked (it came chunked).
  let chunkedUpstream: Bool

  /// The connection's buffer for upstream bytes, reused across exchanges.
  let upstreamInbound: ByteBuffer
  var responseParser = ResponseHeadParser()
  /// The final (non-1xx) response head has arrived (and was sent on to the client).
  var responseHeadSent = false
  /// The final response's status and how many body bytes went to the client (before compression), for
  /// the access log.
  var responseStatus = 0
  var bytesOut = 0
  /// The upstream connection may serve another request once this response is read.
  var upstreamKeepAlive = false
  var responseBody = BodyReader.none
  var chunkedToClient = false
  var closeClientAfter = false
  var receivedAnything = false
  /// When the request head went upstream (monotonic ns), for the response-head latency.
  var sentAt: UInt64 = 0

  /// Waiting for a connection under `max_conns_per_host`; cancelled when the exchange goes first.
  var waiter: PoolWaiter?

  /// The exchange ends when it is let go (answered, failed, abandoned or become a tunnel).
  deinit {
    waiter?.cancel()
    if counted { target.stats.end() }
  }

  /// Moves the request to another upstream, before anything was sent (its dial failed), or to its first.
  func retarget(_ next: UpstreamTarget) {
    if counted { target.stats.end() }
    next.stats.begin()
    target = next
    counted = true
    selected = true
  }

  /// The request is no longer in flight to `target` (it waits to look for an upstream again).
  func stopCounting() {
    if counted { target.stats.end() }
    counted = false
  }

  /// `target` nil: no upstream is available yet.
  init(
    request: RequestHead, route: ProxyRoute, target: UpstreamTarget?, startedAt: UInt64, bodyLimit: Int?,
    upstreamInbound: ByteBuffer
  ) {
    target?.stats.begin()
    counted = target != nil
    selected = target != nil
    self.startedAt = startedAt
    self.upstreamInbound = upstreamInbound
    self.request = request
    self.route = route
    self.target = target ?? route.targets[0]
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

/// Methods a proxy may send again after a connection failed without a response (RFC 9110 §9.2.2).
let idempotentMethods: Set<String> = ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]

/// Fields the proxy sets itself on the way upstream, so any a client sent are dropped first. Content-Length
/// is written again from the parsed length: `5, 5`, a repeated field or `005` reach the upstream as one
/// `Content-Length: 5`, never in a form a parser there could read another way.
let replacedRequestFields = ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "expect", "content-length"]
  .map(FieldName.init)

/// Content-Length alone, for responses whose framing edge writes itself.
let contentLengthField = [FieldName("content-length")]

extension HTTPHeaders {
  mutating func apply(_ operations: [HeaderOperation]) {
    for op in operations {
      switch op.kind {
      case .set: set(op.name, op.value)
      case .add: add(op.name, op.value)
      case .delete: remove(op.name)
      case .setDefault: if !contains(op.name) { set(op.name, op.value) }
      }
    }
  }
}

extension [UInt8] {
  /// Appends `Name: value` and CRLF. For names edge chooses and values it has validated or made
  /// (client address, Host as parsed, Upgrade as parsed), so no escaping is needed.
  mutating func appendField(_ name: StaticString, _ value: String) {
    name.withUTF8Buffer { append(contentsOf: $0) }
    append(contentsOf: [58, 32])  // ": "
    append(contentsOf: value.utf8)
    append(contentsOf: [13, 10])
  }
}
