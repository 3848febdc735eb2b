import Foundation
import Testing

@testable import EdgeCaddyfile

@Suite struct ParserTests {
  func parse(_ text: String, env: [String: String] = [:]) throws -> [ServerBlock] {
    try Parser.parse(text: text, file: "Caddyfile", environment: env)
  }

  func shape(_ blocks: [ServerBlock]) -> [[String]] {
    blocks.map { b in [b.keys.map(\.text).joined(separator: ",")] + b.segments.map { $0.tokens.map(\.text).joined(separator: " ") } }
  }

  @Test func globalOptionsAndSites() throws {
    let blocks = try parse("""
      # comment
      {
      	email admin@example.com
      	servers {
      		timeouts {
      			idle 1m
      		}
      	}
      }

      a.com, b.com {
      	respond "hi" 200
      }
      c.com d.com {
      	reverse_proxy x:1 # trailing comment
      }
      """)
    #expect(blocks.count == 3)
    #expect(blocks[0].isGlobalOptions)
    #expect(shape(blocks) == [
      ["", "email admin@example.com", "servers { timeouts { idle 1m } }"],
      ["a.com,b.com", "respond hi 200"],
      ["c.com,d.com", "reverse_proxy x:1"],
    ])
    #expect(blocks[1].keys[1].column == 8)
  }

  @Test func addressesSpanLinesAfterCommas() throws {
    let blocks = try parse("a.com,\n  b.com,\n  c.com {\n\trespond ok\n}")
    #expect(blocks[0].keys.map(\.text) == ["a.com", "b.com", "c.com"])
    #expect(blocks[0].keys[2].line == 3)
  }

  @Test func singleSiteWithoutBraces() throws {
    let blocks = try parse("localhost\nrespond \"hi\"\nrequest_body {\n\tmax_size 1MB\n}\n")
    #expect(shape(blocks) == [["localhost", "respond hi", "request_body { max_size 1MB }"]])
  }

  @Test func emptyFileAndEmptyBlocks() throws {
    #expect(try parse("").isEmpty)
    #expect(try parse("# nothing\n").isEmpty)
    #expect(shape(try parse("{\n}\na.com {\n}")) == [[""], ["a.com"]])
  }

  @Test func unclosedBraceIsReportedAtTheBrace() throws {
    #expect(throws: CaddyfileError("'{' is never closed; add a matching '}'", file: "Caddyfile", line: 1, column: 7)) {
      try parse("a.com {\n\trespond hi\n")
    }
  }

  @Test func strayClosingBrace() throws {
    #expect(throws: CaddyfileError(
      "unexpected '}' without a matching '{'; did you forget '{' after a site address?", file: "Caddyfile", line: 3,
      column: 1)) {
      try parse("a.com\n\trespond hi\n}\n")
    }
    #expect(throws: CaddyfileError.self) { try parse("a.com {\n\trespond hi }\n}") }
  }

  @Test func contentAfterOpenBraceOnSameLine() throws {
    #expect(throws: CaddyfileError(
      "unexpected 'respond' after '{' on the same line; start the block's contents on the next line",
      file: "Caddyfile", line: 1, column: 9)) {
      try parse("a.com { respond hi }")
    }
  }

  @Test func secondBlockWithoutAddress() throws {
    #expect(throws: CaddyfileError.self) { try parse("a.com {\n}\n{\n}") }
  }

  @Test func snippetsWithArguments() throws {
    let blocks = try parse("""
      (proxy) {
      	reverse_proxy {args[0]} {args[1:]}
      	respond "{args.0} says {args[:]}"
      }
      a.com {
      	import proxy app:1 app:2 app:3
      	import proxy x:1
      }
      """)
    #expect(shape(blocks) == [[
      "a.com", "reverse_proxy app:1 app:2 app:3", "respond app:1 says app:1 app:2 app:3", "reverse_proxy x:1",
      "respond x:1 says x:1",
    ]])
  }

  @Test func snippetArgumentOutOfRange() throws {
    #expect(throws: CaddyfileError.self) { try parse("(s) {\n\trespond {args[1]}\n}\na {\n\timport s one\n}") }
  }

  @Test func importingTheSameSnippetTwiceKeepsLinesApart() throws {
    let blocks = try parse("(s) {\n\trespond 200\n}\na {\n\timport s\n\timport s\n}")
    #expect(blocks[0].segments.count == 2)
  }

  @Test func snippetCycleIsAnError() throws {
    #expect(throws: CaddyfileError(
      "import cycle: snippet 'b' → snippet 'a' → snippet 'b'; remove one of these imports", file: "Caddyfile", line: 2,
      column: 2)) {
      try parse("(a) {\n\timport b\n}\n(b) {\n\timport a\n}\nx {\n\timport b\n}")
    }
  }

  @Test func unknownImportIsAnError() throws {
    #expect(throws: CaddyfileError.self) { try parse("a {\n\timport nothing_here\n}") }
  }

  @Test func blocksCanBeBuiltFromSegmentsDirectly() {
    let segment = Segment(tokens: [Token(text: "respond"), Token(text: "hi")])
    #expect(segment.directive == "respond")
    #expect(ServerBlock(keys: [], segments: [segment]).isGlobalOptions)
  }
}

@Suite final class ImportFileTests {
  let folder: String

  init() throws {
    folder = NSTemporaryDirectory() + "edge-caddyfile-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder + "/sites", withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: folder) }

  func write(_ name: String, _ text: String) throws {
    try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
  }

  @Test func importsFilesAndGlobsRelativeToTheImporter() throws {
    try write("Caddyfile", "import common.caddy\nimport sites/*.caddy\n")
    try write("common.caddy", "(hello) {\n\trespond \"hello {args[0]}\"\n}\n")
    try write("sites/a.caddy", "a.com {\n\timport hello a\n}\n")
    try write("sites/b.caddy", "b.com {\n\treverse_proxy b:1\n}\n")
    let blocks = try Parser.parse(contentsOf: folder + "/Caddyfile", environment: [:])
    #expect(blocks.map { $0.keys[0].text } == ["a.com", "b.com"])
    #expect(blocks[0].segments[0].tokens.map(\.text) == ["respond", "hello a"])
    #expect(blocks[1].segments[0].first.file.hasSuffix("sites/b.caddy"))
    #expect(blocks[1].segments[0].first.line == 2)
  }

  @Test func importedFileWithArguments() throws {
    try write("Caddyfile", "a.com {\n\timport proxy.caddy up:9000\n}\n")
    try write("proxy.caddy", "reverse_proxy {args[0]}\n")
    let blocks = try Parser.parse(contentsOf: folder + "/Caddyfile", environment: [:])
    #expect(blocks[0].segments[0].tokens.map(\.text) == ["reverse_proxy", "up:9000"])
  }

  @Test func globMatchingNothingIsFine() throws {
    try write("Caddyfile", "import sites/*.none\na.com {\n\trespond ok\n}\n")
    #expect(try Parser.parse(contentsOf: folder + "/Caddyfile", environment: [:]).count == 1)
  }

  @Test func fileImportCycle() throws {
    try write("Caddyfile", "import one.caddy\n")
    try write("one.caddy", "import two.caddy\n")
    try write("two.caddy", "\n\timport one.caddy\n")
    do {
      _ = try Parser.parse(contentsOf: folder + "/Caddyfile", environment: [:])
      Issue.record("expected an import cycle error")
    } catch {
      #expect(error.message.hasPrefix("import cycle: "))
      #expect(error.file.hasSuffix("two.caddy") && error.line == 2 && error.column == 2)
    }
  }

  @Test func missingFile() throws {
    #expect(throws: CaddyfileError.self) { try Parser.parse(contentsOf: folder + "/nope", environment: [:]) }
  }
}
