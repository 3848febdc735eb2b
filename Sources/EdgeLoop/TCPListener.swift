internal import CEdgeShims
internal import CLibUV
import Glibc

/// A listening socket on one loop. Every worker loop binds its own socket to the same address with
/// SO_REUSEPORT, and the kernel spreads new connections across them.
public final class TCPListener {
  public let loop: EventLoop
  public let address: SocketAddress
  let handle: UnsafeMutablePointer<uv_tcp_t>
  private let onAccept: (TCPStream) -> Void
  private var closed = false

  /// Binds and listens. Throws when the address is taken or cannot be bound.
  public init(
    loop: EventLoop, address: SocketAddress, backlog: Int32 = 1024, onAccept: @escaping (TCPStream) -> Void
  ) throws(UVError) {
    self.loop = loop
    self.address = address
    self.onAccept = onAccept
    var storage = address.storage
    let fd = withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { edge_bound_tcp_socket($0, 1) }
    }
    if fd < 0 { throw UVError(code: fd, call: "bind \(address)") }
    handle = .allocate(capacity: 1)
    uv_tcp_init(loop.raw, handle)
    handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    do {
      try check(uv_tcp_open(handle, uv_os_sock_t(fd)), "open \(address)")
      let stream = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
      try check(
        uv_listen(stream, backlog) { server, status in
          let me = Unmanaged<TCPListener>.fromOpaque(server!.pointee.data).takeUnretainedValue()
          guard status == 0, !me.closed else { return }
          me.acceptOne()
        }, "listen \(address)")
    } catch {
      close()
      throw error
    }
  }

  private func acceptOne() {
    let client = TCPStream(loop: loop)
    let server = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
    if uv_accept(server, client.stream) != 0 {
      client.close()
      return
    }
    client.setNoDelay(true)
    onAccept(client)
  }

  /// Stops accepting. Connections already accepted are not affected.
  public func close() {
    guard !closed else { return }
    closed = true
    uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { raw in
      let me = Unmanaged<TCPListener>.fromOpaque(raw!.pointee.data).takeRetainedValue()
      me.handle.deallocate()
    }
  }
}

@available(*, unavailable)
extension TCPListener: Sendable {}
