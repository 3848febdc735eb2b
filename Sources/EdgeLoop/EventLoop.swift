internal import CEdgeShims
internal import CLibUV
import Glibc
import Synchronization

/// One libuv loop on its own thread, and the Swift `SerialExecutor` of every actor bound to it.
///
/// Jobs and closures from other threads are queued under a pthread mutex and the loop is woken with
/// `uv_async_send`. libuv callbacks already run on the loop thread, so actors bound to this executor are
/// entered from them with `assumeIsolated`: no task and no hop per event.
/// Something with output to produce once per round of the loop (see `EventLoop.flushSoon`).
public protocol LoopFlusher: AnyObject {
  func loopWillFlush()
}

public final class EventLoop: SerialExecutor, @unchecked Sendable {
  // Invariant: `raw`, `pool` and every handle are touched only on the loop thread (checked by
  // `precondition(inLoop)` in `run`'s callers); `pending` only under `mutex`.
  let raw: UnsafeMutablePointer<uv_loop_t>
  private let wake: UnsafeMutablePointer<uv_async_t>
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private var pending: [Work] = []
  private var running: [Work] = []
  private var thread = pthread_t()
  private var threadKnown = false
  /// The index of this loop among the node's workers (the control loop has -1).
  public let index: Int
  /// Buffers for reads and queued writes.
  let pool = BufferPool()
  /// Streams with batched writes to send before the loop next waits for I/O.
  var dirtyStreams: [TCPStream] = []
  /// Owners with output of their own to produce before the loop waits (an HTTP/2 session turning its
  /// streams' responses into frames), run before the batched writes go out. See `flushSoon`.
  private var pendingFlushers: [any LoopFlusher] = []
  private let beforePoll: UnsafeMutablePointer<uv_prepare_t>
  private let afterPoll: UnsafeMutablePointer<uv_check_t>

  private enum Work {
    case job(UnownedJob)
    case closure(() -> Void)
  }

  public init(index: Int) {
    self.index = index
    raw = .allocate(capacity: 1)
    let status = uv_loop_init(raw)
    precondition(status == 0, "uv_loop_init failed: \(status)")
    mutex = .allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
    wake = .allocate(capacity: 1)
    beforePoll = .allocate(capacity: 1)
    afterPoll = .allocate(capacity: 1)
    uv_async_init(raw, wake) { handle in
      Unmanaged<EventLoop>.fromOpaque(handle!.pointee.data).takeUnretainedValue().drain()
    }
    wake.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    // Batched writes go out after each round of I/O callbacks (check) and after timers (prepare), so a
    // response written in pieces leaves in one syscall and never waits for the next poll.
    uv_prepare_init(raw, beforePoll)
    uv_check_init(raw, afterPoll)
    beforePoll.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    afterPoll.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    uv_prepare_start(beforePoll) { handle in
      Unmanaged<EventLoop>.fromOpaque(handle!.pointee.data).takeUnretainedValue().flushDirtyStreams()
    }
    uv_check_start(afterPoll) { handle in
      Unmanaged<EventLoop>.fromOpaque(handle!.pointee.data).takeUnretainedValue().flushDirtyStreams()
    }
    // Neither keeps the loop alive on its own.
    uv_unref(UnsafeMutableRawPointer(beforePoll).assumingMemoryBound(to: uv_handle_t.self))
    uv_unref(UnsafeMutableRawPointer(afterPoll).assumingMemoryBound(to: uv_handle_t.self))
  }

  /// Tears down a loop that is not running (never started, or stopped and returned from `run`).
  deinit {
    for handle in [
      UnsafeMutableRawPointer(wake), UnsafeMutableRawPointer(beforePoll), UnsafeMutableRawPointer(afterPoll),
    ] {
      uv_close(handle.assumingMemoryBound(to: uv_handle_t.self), nil)
    }
    uv_run(raw, UV_RUN_NOWAIT)  // lets libuv finish the closes
    uv_loop_close(raw)
    raw.deallocate()
    wake.deallocate()
    beforePoll.deallocate()
    afterPoll.deallocate()
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  private func flushDirtyStreams() {
    while !dirtyStreams.isEmpty || !pendingFlushers.isEmpty {
      if !pendingFlushers.isEmpty {
        let flushers = pendingFlushers
        pendingFlushers.removeAll(keepingCapacity: true)
        for flusher in flushers { flusher.loopWillFlush() }
      }
      let streams = dirtyStreams
      dirtyStreams.removeAll(keepingCapacity: true)
      for stream in streams { stream.flush() }
    }
  }

  /// Calls `flusher.loopWillFlush()` once before the loop next waits for I/O (after this round of
  /// callbacks), however many times it is asked this round. On the loop only. The flusher keeps its own
  /// "asked" flag; this only queues it.
  public func flushSoon(_ flusher: any LoopFlusher) {
    pendingFlushers.append(flusher)
  }

  /// True on this loop's thread.
  public var inLoop: Bool { threadKnown && pthread_equal(thread, pthread_self()) != 0 }

  public func enqueue(_ job: consuming ExecutorJob) {
    push(.job(UnownedJob(job)))
  }

  /// Runs `work` on the loop thread soon. Safe from any thread.
  public func execute(_ work: @escaping @Sendable () -> Void) {
    push(.closure(work))
  }

  private func push(_ work: Work) {
    pthread_mutex_lock(mutex)
    pending.append(work)
    pthread_mutex_unlock(mutex)
    uv_async_send(wake)
  }

  private func drain() {
    pthread_mutex_lock(mutex)
    swap(&pending, &running)
    pthread_mutex_unlock(mutex)
    let executor = asUnownedSerialExecutor()
    for work in running {
      switch work {
      case .job(let job): job.runSynchronously(on: executor)
      case .closure(let closure): closure()
      }
    }
    running.removeAll(keepingCapacity: true)
  }

  public func checkIsolated() {
    precondition(inLoop, "not on the thread of event loop \(index)")
  }

  /// The cheap answer the runtime asks first when an actor on this loop is entered with
  /// `assumeIsolated` from a libuv callback (no task is running there).
  public func isIsolatingCurrentContext() -> Bool? { inLoop }

  public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
    UnownedSerialExecutor(ordinary: self)
  }

  /// Runs the loop on the calling thread until `stop()`.
  public func run() {
    // Only the loop's own thread writes these; `started` publishes them to the thread that
    // launched it (TSan caught the launcher writing them too).
    thread = pthread_self()
    threadKnown = true
    started.store(true, ordering: .releasing)
    uv_run(raw, UV_RUN_DEFAULT)
  }

  private let started = Atomic<Bool>(false)

  /// Runs the loop on a new thread, and returns once that thread owns the loop.
  public func runOnNewThread(name: String) {
    final class Box: @unchecked Sendable {  // handed to exactly one new thread
      let loop: EventLoop
      let name: String
      init(_ loop: EventLoop, _ name: String) {
        self.loop = loop
        self.name = name
      }
    }
    let box = Unmanaged.passRetained(Box(self, name)).toOpaque()
    var tid = pthread_t()
    let status = pthread_create(
      &tid, nil,
      { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        edge_set_thread_name(String(box.name.prefix(15)))
        box.loop.run()
        return nil
      }, box)
    precondition(status == 0, "pthread_create failed: \(status)")
    while !started.load(ordering: .acquiring) { sched_yield() }
  }

  /// Stops the loop after the current iteration. Loop thread only.
  public func stop() {
    uv_stop(raw)
  }

  /// Milliseconds of the loop's cached clock.
  public var now: UInt64 { uv_now(raw) }
}
