import Testing

@testable import EdgeCaddyfile

/// Inputs fuzz-caddyfile-adapter (Tests/fuzz) found in the parser, fed again after the fix.
@Suite struct ParserFuzzRegressionTests {
  /// A lone `,` after the global options block split into no site address at all: the block it started
  /// had no keys, passed for a second global options block, and the adapter's precondition stopped the
  /// process (`edge run`, `edge validate`, a reload). Now a parse error at the comma.
  @Test(arguments: ["{\n}\n,", "{\n}\n,\n", ",", ",, {\n\trespond ok\n}", "a.test {\n}\n, {\n}"])
  func commasWithoutAddressAreAnError(text: String) {
    #expect(throws: CaddyfileError.self) { try Parser.parse(text: text, file: "Caddyfile", environment: [:]) }
  }

  @Test func theErrorPointsAtTheComma() {
    do {
      _ = try Parser.parse(text: "{\n}\n,", file: "Caddyfile", environment: [:])
      Issue.record("parsed")
    } catch {
      #expect(error.description.hasPrefix("Caddyfile:3:1: ',' is not a site address"), "\(error)")
    }
  }

  @Test func addressListsWithCommasStillParse() throws {
    let blocks = try Parser.parse(text: "a.test, b.test,\nc.test {\n}", file: "Caddyfile", environment: [:])
    #expect(blocks.first?.keys.map(\.text) == ["a.test", "b.test", "c.test"])
  }
}
