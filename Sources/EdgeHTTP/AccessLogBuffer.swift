import EdgeLoop

/// Access lines waiting for their `write(2)`, one buffer per worker loop. Lines are built straight into
/// it where requests end, and go out together when 64 KiB have gathered, 50 ms after the first one, or
/// when the worker drains or closes. Only its loop touches it: no lock on the way. A crash loses at most
/// the last 50 ms of lines (as nginx's `access_log … buffer=`).
final class AccessLogBuffer {
  static let flushBytes = 64 * 1024
  static let flushMilliseconds: UInt64 = 50

  private var pending: [(sink: LogSink, bytes: [UInt8])] = []
  private let timer: LoopTimer
  private var armed = false

  init(loop: EventLoop) {
    timer = LoopTimer(loop: loop)
    timer.setHandler { [unowned self] in self.flush() }
  }

  /// Lets `build` append one line for `sink`.
  func append(to sink: LogSink, _ build: (inout [UInt8]) -> Void) {
    let index: Int
    if let found = pending.firstIndex(where: { $0.sink === sink }) {
      index = found
    } else {
      var bytes: [UInt8] = []
      bytes.reserveCapacity(Self.flushBytes + 4096)
      pending.append((sink, bytes))
      index = pending.count - 1
    }
    build(&pending[index].bytes)
    if pending[index].bytes.count >= Self.flushBytes {
      write(index)
    } else if !armed {
      armed = true
      timer.start(after: Self.flushMilliseconds)
    }
  }

  /// Writes everything pending now.
  func flush() {
    armed = false
    timer.stop()
    for index in pending.indices { write(index) }
  }

  private func write(_ index: Int) {
    guard !pending[index].bytes.isEmpty else { return }
    pending[index].sink.write(pending[index].bytes)
    pending[index].bytes.removeAll(keepingCapacity: true)
  }

  func close() {
    flush()
    timer.close()
  }
}
