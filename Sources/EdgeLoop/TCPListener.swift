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

  /// Binds and listens. Throws when the address is taken or cannot be bound. `reusePort`: several
  /// sockets (the workers' — or, without care, several processes') share the port and the kernel spreads
  /// connections; off for a port that must belong to one process (the admin endpoint).
  public init(
    loop: EventLoop, address: SocketAddress, backlog: Int32 = 1024, reusePort: Bool = true,
    onAccept: @escaping (TCPStream) -> Void
  ) throws(UVError) {
    self.loop = loop
    self.address = address
    self.onAccept = onAccept
    var storage = address.storage
    let fd = withUnsafePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { edge_bound_tcp_socket($0, reusePort ? 1 : 0) }
    }
    if fd < 0 { throw UVError(code: fd, call: "bind \(address)") }
    handle = .allocate(capacity: 1)
    try listen(fd: fd, backlog: backlog, describing: "\(address)")
  }

  /// Takes over the bound socket `fd` and starts accepting (called once, from an init).
  private func listen(fd: Int32, backlog: Int32, describing what: String) throws(UVError) {
    uv_tcp_init(loop.raw, handle)
    handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    do {
      // libuv's stream calls work on any stream socket, so a tcp handle carries unix sockets too.
      try check(uv_tcp_open(handle, uv_os_sock_t(fd)), "open \(what)")
      let stream = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
      try check(
        uv_listen(stream, backlog) { server, status in
          let me = Unmanaged<TCPListener>.fromOpaque(server!.pointee.data).takeUnretainedValue()
          guard status == 0, !me.closed else { return }
          me.acceptOne()
        }, "listen \(what)")
    } catch {
      close()
      throw error
    }
  }

  /// Listens on a unix socket at `path`, readable and writable by this user only (0600). A stale socket
  /// file left by a process that is gone is replaced; any other file there is an error.
  public init(loop: EventLoop, unixPath path: String, backlog: Int32 = 64, onAccept: @escaping (TCPStream) -> Void)
    throws(UVError)
  {
    self.loop = loop
    self.address = SocketAddress(ip: "127.0.0.1", port: 0)!
    self.onAccept = onAccept
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard path.utf8.count < capacity else { throw UVError(code: -ENAMETOOLONG, call: "bind \(path)") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: path.utf8)
      raw[path.utf8.count] = 0
    }
    var info = stat()
    if lstat(path, &info) == 0 {
      guard (info.st_mode & S_IFMT) == S_IFSOCK else { throw UVError(code: -EEXIST, call: "bind \(path) (not a socket)") }
      unlink(path)
    }
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    if fd < 0 { throw UVError(code: -errno, call: "socket \(path)") }
    // Created with no permissions for others from the start: no window where another user could connect.
    let mask = umask(0o177)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    umask(mask)
    if bound != 0 {
      let code = errno
      Glibc.close(fd)
      throw UVError(code: -code, call: "bind \(path)")
    }
    handle = .allocate(capacity: 1)
    try listen(fd: fd, backlog: backlog, describing: path)
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

extension TCPListener {
  /// Whether `port` can be bound now on the wildcard address (IPv6 dual-stack, else IPv4): checked before
  /// a reload asks every worker to listen on a new port, so a taken port refuses the reload instead of
  /// leaving some workers listening and others not. Binds and closes a socket set up as the listener's.
  public static func canBind(port: Int) -> Bool {
    for ip in ["::", "0.0.0.0"] {
      guard var storage = SocketAddress(ip: ip, port: port)?.storage else { continue }
      // As the listener binds (SO_REUSEADDR): connections in TIME_WAIT on the port do not make it "taken".
      let fd = withUnsafePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { edge_bound_tcp_socket($0, 0) }
      }
      if fd >= 0 {
        Glibc.close(fd)
        return true
      }
      if fd == -EADDRINUSE { return false }
    }
    return false
  }
}
