internal import CEdgeShims
internal import CLibUV
import Glibc

/// Delivers SIGTERM / SIGINT / SIGHUP to a closure on a loop (libuv turns the signal into a loop event).
public final class SignalWatcher {
  let handle: UnsafeMutablePointer<uv_signal_t>
  private let onSignal: (Int32) -> Void

  public init(loop: EventLoop, signal: Int32, _ onSignal: @escaping (Int32) -> Void) {
    self.onSignal = onSignal
    handle = .allocate(capacity: 1)
    uv_signal_init(loop.raw, handle)
    handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    uv_signal_start(
      handle,
      { raw, signum in
        Unmanaged<SignalWatcher>.fromOpaque(raw!.pointee.data).takeUnretainedValue().onSignal(signum)
      }, signal)
  }
}

@available(*, unavailable)
extension SignalWatcher: Sendable {}

/// Process-wide settings every node needs before its first socket.
public enum ProcessSetup {
  /// Ignores SIGPIPE and raises the open-files limit to its hard limit. Returns that limit.
  @discardableResult
  public static func prepare() -> Int {
    edge_ignore_sigpipe()
    return edge_raise_nofile_limit()
  }

  /// Number of CPU cores available.
  public static var cpuCount: Int { max(1, Int(uv_available_parallelism())) }
}
