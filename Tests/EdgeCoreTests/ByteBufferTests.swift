import EdgeCore
import Testing

@Suite("ByteBuffer")
struct ByteBufferTests {
  @Test("appended bytes come out in order across consumes and growth")
  func orderAcrossGrowth() {
    let buffer = ByteBuffer(capacity: 64)
    var expected: [UInt8] = []
    var next: UInt8 = 0
    for round in 0..<200 {
      let chunk = (0..<(round % 37 + 1)).map { _ -> UInt8 in
        next &+= 1
        return next
      }
      buffer.append(chunk)
      expected += chunk
      let take = min(buffer.count, round % 23)
      #expect(Array(buffer.readable.prefix(take)) == Array(expected.prefix(take)))
      buffer.consume(take)
      expected.removeFirst(take)
    }
    #expect(Array(buffer.readable) == expected)
  }

  @Test("consuming everything resets to the start, so it does not grow without bound")
  func resetsWhenEmpty() {
    let buffer = ByteBuffer(capacity: 64)
    for _ in 0..<10_000 {
      buffer.append([1, 2, 3, 4, 5, 6, 7, 8])
      buffer.consume(8)
    }
    #expect(buffer.isEmpty)
    #expect(buffer.capacity == 64)
  }
}
