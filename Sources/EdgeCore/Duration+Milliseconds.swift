extension Duration {
  /// Whole milliseconds, rounded up so a short positive duration never becomes 0 (which libuv treats as
  /// "fire now").
  public var milliseconds: UInt64 {
    let (seconds, attoseconds) = components
    if seconds < 0 { return 0 }
    let ms = UInt64(seconds) * 1000 + UInt64(attoseconds / 1_000_000_000_000_000)
    let rest = attoseconds % 1_000_000_000_000_000
    return rest > 0 ? ms + 1 : ms
  }
}
