/// A timeout that moves far more often than it fires, like a connection's idle or header timeout.
///
/// Moving the deadline later only updates a number: the underlying timer keeps its earlier expiry, and
/// when it fires early it re-arms for the deadline as it now stands. So a keep-alive connection does not
/// touch libuv's timer heap on every request.
public final class DeadlineTimer {
  private let loop: EventLoop
  private let timer: LoopTimer
  private var handler: (() -> Void)?
  /// Loop time (ms) when the handler is due; nil when disarmed.
  private var deadline: UInt64?
  /// Loop time when the underlying timer fires; nil when it is not armed.
  private var armedFor: UInt64?

  public init(loop: EventLoop) {
    self.loop = loop
    timer = LoopTimer(loop: loop)
    timer.setHandler { [unowned self] in self.fired() }
  }

  public func setHandler(_ handler: @escaping () -> Void) { self.handler = handler }

  /// The handler runs `milliseconds` from now unless moved or stopped before.
  public func start(after milliseconds: UInt64) {
    let due = loop.now + milliseconds
    deadline = due
    if armedFor.map({ $0 > due }) ?? true {
      armedFor = due
      timer.start(after: milliseconds)
    }
  }

  /// Disarms. The underlying timer may still fire once and find nothing due.
  public func stop() { deadline = nil }

  public func close() {
    deadline = nil
    handler = nil
    timer.close()
  }

  private func fired() {
    armedFor = nil
    guard let due = deadline else { return }
    let now = loop.now
    if now >= due {
      deadline = nil
      handler?()
    } else {
      armedFor = due
      timer.start(after: due - now)
    }
  }
}

@available(*, unavailable)
extension DeadlineTimer: Sendable {}
