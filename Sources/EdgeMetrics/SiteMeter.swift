import EdgeCore
import Prometheus

/// What answered a request, as the `handler` label says it.
public enum MeteredHandler: UInt8, Sendable, CaseIterable {
  case reverseProxy, fileServer, staticResponse, redirect, error, basicAuth, acmeChallenge, metrics, other

  public var label: String {
    switch self {
    case .reverseProxy: "reverse_proxy"
    case .fileServer: "file_server"
    case .staticResponse: "static_response"
    case .redirect: "redir"
    case .error: "error"
    case .basicAuth: "basic_auth"
    case .acmeChallenge: "acme_challenge"
    case .metrics: "metrics"
    case .other: "other"
    }
  }
}

/// One site's request series. Shared by every worker; a label set's handles are looked up in a small
/// table under a lock held for the lookup only, then updated with atomics (counters) or the histogram's
/// own lock. The locks here are `Locked` (pthread), not `Mutex`: ThreadSanitizer does not see Mutex's
/// futex and reported every lookup as a race in `make tsan`.
public final class SiteMeter: Sendable {
  public let site: String
  private let series = Locked<[UInt32: Series]>([:])
  private let requestBytes: Counter
  private let responseBytes: Counter

  struct Series: Sendable {
    let count: Counter
    let duration: ValueHistogram
  }

  public init(site: String) {
    self.site = site
    requestBytes = Families.requestBytes.counter([("site", site)])
    responseBytes = Families.responseBytes.counter([("site", site)])
  }

  /// One answered request. `status` 0 (the client left before a response head) is counted as 0.
  public func record(
    handler: MeteredHandler, method: String, status: Int, seconds: Double, bytesIn: Int, bytesOut: Int
  ) {
    let methodIndex = Self.methodIndex(method)
    let code = UInt32(min(max(status, 0), 999))
    let key = UInt32(handler.rawValue) << 16 | UInt32(methodIndex) << 10 | code
    let found = series.withLock { table in
      if let hit = table[key] { return hit }
      let labels = [
        ("site", site), ("handler", handler.label), ("method", Self.methods[Int(methodIndex)]), ("code", String(code)),
      ]
      let made = Series(count: Families.requests.counter(labels), duration: Families.requestDuration.histogram(labels))
      table[key] = made
      return made
    }
    found.count.increment()
    found.duration.record(seconds)
    if bytesIn > 0 { requestBytes.increment(by: Int64(bytesIn)) }
    if bytesOut > 0 { responseBytes.increment(by: Int64(bytesOut)) }
  }

  /// Method labels: the registered methods as they are, anything else as OTHER (a client cannot make up
  /// series).
  static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "OTHER"]

  static func methodIndex(_ method: String) -> UInt8 {
    switch method {
    case "GET": 0
    case "HEAD": 1
    case "POST": 2
    case "PUT": 3
    case "DELETE": 4
    case "OPTIONS": 5
    case "PATCH": 6
    case "CONNECT": 7
    case "TRACE": 8
    default: 9
    }
  }
}
