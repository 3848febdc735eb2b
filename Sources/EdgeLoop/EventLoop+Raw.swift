extension EventLoop {
  /// The `uv_loop_t *` underneath, for a C library that drives its own sockets through libuv (hiredis'
  /// adapter in EdgeRedis). Untyped so no libuv type leaves EdgeLoop; use it on the loop thread only.
  package var uvLoopPointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(raw) }
}
