import EdgeProxy

/// Retries and health bookkeeping of a proxied request: where it goes after its upstream failed, the
/// wait between rounds of tries, and the failures passive health checks remember.
extension HTTPConnection {
  /// The exchange's upstream failed before the request could have had an effect there: on to an
  /// upstream this round has not tried, at once; else, when `lb_try_duration` or `lb_retries` allow,
  /// another round after `lb_try_interval`. False when the tries are over (the caller answers 502).
  func tryNextUpstream(_ exchange: ProxyExchange) -> Bool {
    exchange.tried.insert(exchange.target.index)
    if let cap = exchange.route.config.loadBalancing.retries, exchange.retries >= cap { return false }
    if let next = exchange.route.select(exchange.request, remoteIP: remoteIP, clientIP: clientIP, excluding: exchange.tried) {
      exchange.retries += 1
      exchange.retarget(next)
      connectUpstream(exchange, fresh: false)
      return true
    }
    guard mayTryLater(exchange) else { return false }
    waitToRetry(exchange)
    return true
  }

  /// Whether another round of tries is allowed: `lb_try_duration` has not run out and `lb_retries` (when
  /// set) is not used up. Without either, never.
  func mayTryLater(_ exchange: ProxyExchange) -> Bool {
    let balancing = exchange.route.config.loadBalancing
    guard balancing.retriesLater else { return false }
    if let cap = balancing.retries, exchange.retries >= cap { return false }
    let duration = exchange.route.tryDurationMilliseconds
    return duration == 0 || loop.now - exchange.startedAt < duration
  }

  /// Nothing to try now: look again after `lb_try_interval` (the upstream timer, idle meanwhile).
  func waitToRetry(_ exchange: ProxyExchange) {
    exchange.stopCounting()
    exchange.tried.removeAll()
    exchange.waitingToRetry = true
    upstreamTimer.start(after: exchange.route.tryIntervalMilliseconds)
  }

  /// The wait is over: a new round, or the end of the tries (503 when no upstream was available, 502
  /// when the last one tried failed).
  func lookAgain(_ exchange: ProxyExchange) {
    exchange.waitingToRetry = false
    exchange.retries += 1
    if let next = exchange.route.select(exchange.request, remoteIP: remoteIP, clientIP: clientIP) {
      exchange.noneAvailable = false
      exchange.retarget(next)
      return connectUpstream(exchange, fresh: false)
    }
    exchange.noneAvailable = true
    if mayTryLater(exchange) { return waitToRetry(exchange) }
    worker.logger.warning("no upstream available", metadata: ["upstreams": "\(exchange.route.targets.count)"])
    failExchange(status: 503, "no upstreams available")
  }

  /// Passive health: a response with an `unhealthy_status`, or a head later than `unhealthy_latency`,
  /// counts against its upstream.
  func notePassiveHealth(_ exchange: ProxyExchange, status: Int, latency: UInt64) {
    let route = exchange.route
    guard route.balancer.remembersFailures else { return }
    if route.unhealthyStatuses.contains(where: { $0.contains(status) }) {
      route.balancer.recordFailure(of: exchange.target)
    }
    if let limit = route.unhealthyLatencyNanoseconds, latency >= limit {
      route.balancer.recordFailure(of: exchange.target)
    }
  }
}
