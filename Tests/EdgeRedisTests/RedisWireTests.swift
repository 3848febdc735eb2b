import Testing

@testable import EdgeRedis

/// The bytes between the connection and the server, without a socket.
@Suite("RESP encoding and reply reading")
struct RedisWireTests {
  @Test("commands are arrays of binary-safe bulk strings")
  func encodes() {
    #expect(RedisCommandEncoder.encode([Array("GET".utf8), Array("k".utf8)]) == Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8))
    let binary: [UInt8] = [0, 13, 10, 255]
    #expect(
      RedisCommandEncoder.encode([Array("SET".utf8), [], binary])
        == Array("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\n".utf8) + binary + Array("\r\n".utf8))
    var two: [UInt8] = []
    RedisCommandEncoder.append([Array("PING".utf8)], to: &two)
    RedisCommandEncoder.append([Array("PING".utf8)], to: &two)
    #expect(two == Array("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n".utf8))
  }

  @Test("replies split at every byte come out whole and in order")
  func readsFragments() throws {
    let wire = Array("+OK\r\n:-42\r\n$3\r\na\0b\r\n*3\r\n$-1\r\n-ERR no\r\n*1\r\n:7\r\n$0\r\n\r\n".utf8)
    let reader = RedisReplyReader()
    var replies: [RedisReply] = []
    for byte in wire {
      try [byte].withUnsafeBytes { try reader.feed($0) }
      while let reply = try reader.next() { replies.append(reply) }
    }
    #expect(
      replies == [
        .status("OK"), .integer(-42), .bulk([97, 0, 98]), .array([.null, .error("ERR no"), .array([.integer(7)])]),
        .bulk([]),
      ])
  }

  @Test("bytes that are not RESP are a protocol error")
  func protocolError() throws {
    let reader = RedisReplyReader()
    try Array("?what\r\n".utf8).withUnsafeBytes { try reader.feed($0) }
    #expect(throws: RedisReaderError.self) { try reader.next() }
  }

  @Test("completions come out oldest first, across thousands of appends and pops")
  func replyQueue() {
    var queue = ReplyQueue()
    var answered: [Int] = []
    var next = 0
    for round in 0..<3000 {
      let id = round
      queue.append { _ in answered.append(id) }
      if round % 3 != 0, let first = queue.popFirst() {
        first(nil)
        next += 1
      }
    }
    #expect(queue.count == 3000 - next)
    for completion in queue.removeAll() { completion(nil) }
    #expect(answered == Array(0..<3000))
    #expect(queue.isEmpty && queue.popFirst() == nil)
  }
}
