import CoreMetrics
import EdgeCore
import Prometheus
import Synchronization

/// The node's metrics: one Prometheus registry per process, rendered by `GET /metrics` on the admin
/// endpoint and by the `metrics` handler.
///
/// Hot paths (a request answered, a handshake finished) hold handles found once per label set
/// (`SiteMeter`, `HandshakeMeter`), so they cost an atomic add or a short lock. Cold paths (ACME, the
/// cluster, reloads) use swift-metrics, bootstrapped onto the same registry by `bootstrap()`. Values that
/// already live elsewhere (certificate expiry, cluster membership, open connections) are copied into gauges
/// just before each rendering by the collectors `Node` registers.
public enum EdgeMetrics {
  public static let registry = PrometheusCollectorRegistry()

  private static let collectors = Locked<[String: @Sendable () -> Void]>([:])
  private static let bootstrapped = Atomic<Bool>(false)

  /// Points swift-metrics at `registry` (once per process; later calls do nothing).
  public static func bootstrap() {
    guard bootstrapped.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.defaultValueHistogramBuckets = Buckets.seconds
    factory.defaultDurationHistogramBuckets = Buckets.seconds.map { .nanoseconds(Int64($0 * 1e9)) }
    MetricsSystem.bootstrap(factory)
    _ = ProcessMetrics.startTime
  }

  /// Runs `collect` before every rendering, until another collector is set under the same `name` or
  /// `removeCollector(name)`.
  public static func setCollector(_ name: String, _ collect: @escaping @Sendable () -> Void) {
    collectors.withLock { $0[name] = collect }
  }

  public static func removeCollector(_ name: String) {
    _ = collectors.withLock { $0.removeValue(forKey: name) }
  }

  /// The text exposition format (version 0.0.4), collectors run first.
  public static func exposition() -> [UInt8] {
    let pending = collectors.withLock { Array($0.values) }
    for collect in pending { collect() }
    ProcessMetrics.update()
    var out: [UInt8] = []
    out.reserveCapacity(64 * 1024)
    registry.emit(into: &out)
    return out
  }

  /// `Content-Type` of `exposition()`.
  public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// Histogram bucket bounds.
public enum Buckets {
  /// Request and upstream latency, in seconds: 0.5 ms to 30 s.
  public static let seconds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
  /// Slow operations (ACME orders, certificate propagation), in seconds: 50 ms to 10 min.
  public static let slow: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]
}
