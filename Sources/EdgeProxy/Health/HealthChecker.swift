import EdgeLoop

/// Probes one upstream every interval on one loop (the node's control loop) and feeds the results to
/// its `UpstreamHealth`. At most one probe is in flight: a tick that finds the last one still running is
/// skipped. `stop()` closes its timers and any probe's socket; nothing fires after it.
public final class HealthChecker {
  public let loop: EventLoop
  public let probe: HealthProbe
  public let health: UpstreamHealth
  private let resolver: Resolver
  /// Told of every status change, with the failed probe's reason (empty for a pass), for the log.
  private let onChange: (UpstreamHealth.Status, String) -> Void
  private var ticker: LoopTimer?
  private var deadline: LoopTimer?
  private var stream: TCPStream?
  private var reader: ProbeReader?
  /// Bumped by each probe, so callbacks of an earlier one (a late resolve or connect) change nothing.
  private var generation = 0
  private var inFlight = false
  private var stopped = false

  public init(
    loop: EventLoop, resolver: Resolver, probe: HealthProbe, health: UpstreamHealth,
    onChange: @escaping (UpstreamHealth.Status, String) -> Void
  ) {
    self.loop = loop
    self.resolver = resolver
    self.probe = probe
    self.health = health
    self.onChange = onChange
  }

  /// Probes now, then every interval.
  public func start() {
    guard !stopped, ticker == nil else { return }
    let ticker = LoopTimer(loop: loop)
    self.ticker = ticker
    let deadline = LoopTimer(loop: loop)
    deadline.setHandler { [weak self] in self?.finish(.fail("no answer within \(self?.probe.timeoutMilliseconds ?? 0) ms")) }
    self.deadline = deadline
    ticker.start(after: 0, repeat: probe.intervalMilliseconds) { [weak self] in self?.tick() }
  }

  public func stop() {
    stopped = true
    ticker?.close()
    ticker = nil
    deadline?.close()
    deadline = nil
    endProbe()
  }

  private func tick() {
    guard !stopped, !inFlight else { return }
    inFlight = true
    generation += 1
    let generation = self.generation
    reader = ProbeReader(probe)
    deadline?.start(after: probe.timeoutMilliseconds)
    resolver.resolve(host: probe.host, port: probe.port) { [weak self] result in
      guard let self, self.generation == generation, self.inFlight else { return }
      switch result {
      case .failure(let error): self.finish(.fail("resolving \(self.probe.host): \(error)"))
      case .success(let addresses):
        TCPStream.connect(on: self.loop, to: addresses[0], timeoutMilliseconds: self.probe.timeoutMilliseconds) {
          [weak self] result in
          guard let self, self.generation == generation, self.inFlight else {
            if case .success(let stream) = result { stream.close() }
            return
          }
          switch result {
          case .failure(let error): self.finish(.fail("\(error)"))
          case .success(let stream): self.send(on: stream)
          }
        }
      }
    }
  }

  private func send(on stream: TCPStream) {
    self.stream = stream
    stream.delegate = ProbeEvents(self)
    stream.write(probe.request)
    stream.startReading()
  }

  fileprivate func received(_ bytes: UnsafeRawBufferPointer) {
    guard inFlight, let verdict = reader?.read(bytes) else { return }
    finish(verdict)
  }

  fileprivate func ended(_ error: UVError?) {
    guard inFlight else { return }
    if let error { return finish(.fail("\(error)")) }
    finish(reader?.end() ?? .fail("connection closed"))
  }

  private func finish(_ verdict: ProbeVerdict) {
    guard inFlight else { return }
    endProbe()
    guard !stopped else { return }
    if let changed = health.record(passed: verdict.passed, passes: probe.passes, fails: probe.fails) {
      if case .fail(let reason) = verdict { onChange(changed, reason) } else { onChange(changed, "") }
    }
  }

  private func endProbe() {
    inFlight = false
    deadline?.stop()
    reader = nil
    if let stream {
      self.stream = nil
      stream.delegate = nil
      stream.close()
    }
  }
}

/// A probe socket's events; the checker is weak so a stopped one can go away with a socket closing.
private final class ProbeEvents: TCPStreamDelegate {
  weak var checker: HealthChecker?
  init(_ checker: HealthChecker) { self.checker = checker }
  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) { checker?.received(bytes) }
  func streamDidReachEOF(_ stream: TCPStream) { checker?.ended(nil) }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) { checker?.ended(error) }
  func streamDidDrain(_ stream: TCPStream) {}
}

@available(*, unavailable)
extension HealthChecker: Sendable {}
