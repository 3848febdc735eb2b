import Testing

@testable import EdgeCaddyfile

@Suite struct DispenserTests {
  func segment(_ text: String) throws -> Segment {
    try Parser.parse(text: "x {\n\(text)\n}", file: "F", environment: [:])[0].segments[0]
  }

  @Test func argumentsAndBlocks() throws {
    let seg = try segment("""
      reverse_proxy /api/* a:1 b:2 {
      	to c:3
      	transport http {
      		dial_timeout 1s
      	}
      	lb_policy round_robin
      }
      """)
    var d = seg.dispenser
    _ = d.next()
    #expect(d.val == "reverse_proxy")
    let args = d.remainingArgs()
    #expect(args == ["/api/*", "a:1", "b:2"])
    var seen: [String] = []
    while d.nextBlock(0) {
      seen.append(d.val)
      if d.val == "transport" {
        let moved = d.nextArg()
        #expect(moved && d.val == "http")
        while d.nextBlock(1) {
          seen.append("  " + d.val)
          let value = d.remainingArgs()
          #expect(value == ["1s"])
        }
      } else {
        _ = d.remainingArgs()
      }
    }
    #expect(seen == ["to", "transport", "  dial_timeout", "lb_policy"])
    #expect(d.nesting == 0)
  }

  @Test func unreadArgumentsAndBlocksAreSkipped() throws {
    var d = try segment("a 1 2 {\n\tb 3 {\n\t\tc\n\t}\n\td\n}").dispenser
    _ = d.next()
    var seen: [String] = []
    while d.nextBlock(0) { seen.append(d.val) }
    #expect(seen == ["b", "d"])
  }

  @Test func nextArgStopsAtLineEnd() throws {
    let blocks = try Parser.parse(text: "x {\n\trespond hi\n\tnext\n}", file: "F", environment: [:])
    var d = blocks[0].segments[0].dispenser
    let first = d.next()
    let second = d.nextArg()
    #expect(first && second && d.val == "hi")
    let third = d.nextArg()
    #expect(!third && d.val == "hi")
    let block = d.nextBlock(0)
    #expect(!block)
  }

  @Test func errorsArePositioned() throws {
    var d = try segment("\trespond 1 2 3").dispenser
    _ = d.next()
    _ = d.nextArg()
    #expect(d.error("bad").description == "F:2:10: bad")
    #expect(d.argErr().message.contains("after '1'"))
  }
}
