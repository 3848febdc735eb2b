internal import CLibUV

/// A one-shot or repeating timer on one loop. `close()` releases it; a closed timer never fires.
public final class LoopTimer {
  let handle: UnsafeMutablePointer<uv_timer_t>
  private var fire: (() -> Void)?
  private var closed = false

  public init(loop: EventLoop) {
    handle = .allocate(capacity: 1)
    uv_timer_init(loop.raw, handle)
    handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
  }

  /// (Re)arms the timer: `fire` runs once after `milliseconds`, then every `repeat` ms if non-zero.
  public func start(after milliseconds: UInt64, repeat: UInt64 = 0, _ fire: @escaping () -> Void) {
    guard !closed else { return }
    self.fire = fire
    arm(milliseconds, `repeat`)
  }

  /// Re-arms with the handler given before (`start(after:_:)` or `init(loop:handler:)`): no allocation.
  public func start(after milliseconds: UInt64) {
    guard !closed, fire != nil else { return }
    arm(milliseconds, 0)
  }

  /// Sets what firing does, without arming.
  public func setHandler(_ handler: @escaping () -> Void) {
    guard !closed else { return }
    fire = handler
  }

  private func arm(_ milliseconds: UInt64, _ repeat: UInt64) {
    uv_timer_start(
      handle,
      { raw in
        let me = Unmanaged<LoopTimer>.fromOpaque(raw!.pointee.data).takeUnretainedValue()
        me.fire?()
      }, milliseconds, `repeat`)
  }

  /// Disarms; the handler stays for the next `start(after:)`.
  public func stop() {
    guard !closed else { return }
    uv_timer_stop(handle)
  }


  public func close() {
    guard !closed else { return }
    closed = true
    fire = nil
    uv_timer_stop(handle)
    uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { raw in
      let me = Unmanaged<LoopTimer>.fromOpaque(raw!.pointee.data).takeRetainedValue()
      me.handle.deallocate()
    }
  }
}

// Invariant: a timer is used only on its loop's thread (same rule as TCPStream).
extension LoopTimer: @unchecked Sendable {}
