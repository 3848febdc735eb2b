import Prometheus

/// One upstream address's series, shared by every route and table that names it.
public final class UpstreamMeter: Sendable {
  private let active: Gauge
  private let requests: Counter
  private let failures: Counter
  private let headerTime: ValueHistogram

  public init(upstream: String) {
    let labels = [("upstream", upstream)]
    active = Families.upstreamActive.gauge(labels)
    requests = Families.upstreamRequests.counter(labels)
    failures = Families.upstreamFailures.counter(labels)
    headerTime = Families.upstreamDuration.histogram(labels)
  }

  public func began() {
    requests.increment()
    active.increment()
  }
  public func ended() { active.decrement() }
  public func failed() { failures.increment() }
  /// Seconds from the request head written upstream to the response head read.
  public func responseHead(after seconds: Double) { headerTime.record(seconds) }
}
