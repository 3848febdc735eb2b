import EdgeLoop

/// `max_conns_per_host` for one upstream on one worker: how many connections are open (dialling, busy
/// or idle) and the requests waiting, first come first served, for one to come free.
final class HostSlots {
  let limit: Int
  var open = 0
  /// Waiters in arrival order from `head`; the ones cancelled or expired are skipped and dropped lazily.
  private var waiters: [PoolWaiter] = []
  private var head = 0
  /// Serving waiters happens at the next loop turn, never inside the call that freed a place (a
  /// response being finished, a socket being closed).
  private let kick: LoopTimer
  private var kickArmed = false

  init(limit: Int, loop: EventLoop, serve: @escaping (HostSlots) -> Void) {
    self.limit = limit
    kick = LoopTimer(loop: loop)
    kick.setHandler { [unowned self] in
      self.kickArmed = false
      serve(self)
    }
  }

  deinit { kick.close() }

  var hasRoom: Bool { open < limit }

  /// The first waiter still waiting, dead ones before it dropped.
  var firstWaiting: PoolWaiter? {
    while head < waiters.count, !waiters[head].isWaiting { head += 1 }
    if head == waiters.count, head > 0 {
      waiters.removeAll(keepingCapacity: true)
      head = 0
    } else if head > 64, head * 2 > waiters.count {
      waiters.removeFirst(head)
      head = 0
    }
    return head < waiters.count ? waiters[head] : nil
  }

  func append(_ waiter: PoolWaiter) { waiters.append(waiter) }

  func removeFirst() { head += 1 }

  /// A connection closed (or left for a tunnel): its place goes to the next waiter, if any.
  func give() {
    open -= 1
    wakeSoon()
  }

  func wakeSoon() {
    guard !kickArmed, firstWaiting != nil else { return }
    kickArmed = true
    kick.start(after: 0)
  }
}

/// A request waiting for a connection under `max_conns_per_host`. Cancel it when the request goes away
/// first (the client hung up); it ends by itself at its deadline.
public final class PoolWaiter {
  let request: UpstreamDial
  /// Loop time (ms) the wait and the dial after it must end by.
  let deadline: UInt64
  private var done: ((Result<UpstreamConnection, UpstreamDialError>) -> Void)?
  private let timer: LoopTimer

  init(
    request: UpstreamDial, deadline: UInt64, loop: EventLoop,
    done: @escaping (Result<UpstreamConnection, UpstreamDialError>) -> Void
  ) {
    self.request = request
    self.deadline = deadline
    self.done = done
    timer = LoopTimer(loop: loop)
  }

  var isWaiting: Bool { done != nil }

  func arm(after milliseconds: UInt64, limit: Int) {
    let upstream = "\(request.host):\(request.port)"
    timer.start(after: milliseconds) { [weak self] in
      self?.finish(
        .failure(
          UpstreamDialError(
            .noFreeConnection,
            "no connection to \(upstream) came free within the dial timeout (max_conns_per_host \(limit))")))
    }
  }

  /// Hands over the outcome, once; a connection for a waiter that was cancelled meanwhile is closed.
  func finish(_ result: Result<UpstreamConnection, UpstreamDialError>) {
    timer.close()
    guard let done else {
      if case .success(let conn) = result { conn.close() }
      return
    }
    self.done = nil
    done(result)
  }

  /// The request no longer wants a connection.
  public func cancel() {
    done = nil
    timer.close()
  }
}

@available(*, unavailable) extension HostSlots: Sendable {}
@available(*, unavailable) extension PoolWaiter: Sendable {}
