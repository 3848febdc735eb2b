internal import CHiredis

/// Replies parsed out of the bytes a connection reads, by hiredis' reply reader (RESP2): feed what
/// arrived, then take replies until `next()` returns nil (the rest of a reply has not arrived yet).
///
/// Owns its `redisReader`, freed in deinit; one per connection attempt, so nothing half-read survives a
/// reconnect.
final class RedisReplyReader {
  private let reader: UnsafeMutablePointer<redisReader>

  init() {
    // hiredis returns NULL only when malloc does; nothing sensible can go on without memory.
    guard let reader = redisReaderCreate() else { fatalError("redisReaderCreate: out of memory") }
    self.reader = reader
  }

  deinit { redisReaderFree(reader) }

  func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisReaderError) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    if redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) != REDIS_OK { throw error() }
  }

  /// The next complete reply, or nil until more bytes are fed. Throws on bytes that are not RESP; the
  /// reader is useless after that.
  func next() throws(RedisReaderError) -> RedisReply? {
    var raw: UnsafeMutableRawPointer?
    guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw error() }
    guard let raw else { return nil }
    defer { freeReplyObject(raw) }
    return RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
  }

  private func error() -> RedisReaderError {
    let message = withUnsafeBytes(of: reader.pointee.errstr) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    return RedisReaderError(message: message.isEmpty ? "unreadable reply" : message)
  }
}

/// The server sent something that is not RESP (or hiredis ran out of memory reading it).
struct RedisReaderError: Error, CustomStringConvertible {
  let message: String
  var description: String { "protocol error: \(message)" }
}
