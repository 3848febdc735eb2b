import Testing

@testable import EdgeCaddyfile

@Suite struct LexerTests {
  func texts(_ source: String) throws -> [String] { try Lexer.tokenize(source, file: "F").map(\.text) }

  @Test func splitsOnWhitespaceWithPositions() throws {
    let tokens = try Lexer.tokenize("example.com {\n\trespond  hi\n}", file: "Caddyfile")
    #expect(tokens.map(\.text) == ["example.com", "{", "respond", "hi", "}"])
    #expect(tokens.map(\.line) == [1, 1, 2, 2, 3])
    #expect(tokens.map(\.column) == [1, 13, 2, 11, 1])
    #expect(tokens[0].file == "Caddyfile")
    #expect(tokens[1].isOpenBrace && tokens[4].isCloseBrace)
  }

  @Test func doubleQuotesWithEscapes() throws {
    let tokens = try Lexer.tokenize(#"respond "say \"hi\"" "C:\dir" "a\\""#, file: "F")
    #expect(tokens.map(\.text) == ["respond", #"say "hi""#, #"C:\dir"#, #"a\\"#])
    #expect(tokens[1].isQuoted && !tokens[0].isQuoted)
    #expect(tokens[1].column == 9)
  }

  @Test func quotedStringSpansLinesWithoutEndingTheDirective() throws {
    let tokens = try Lexer.tokenize("respond \"a\nb\" 200\nnext", file: "F")
    #expect(tokens.map(\.text) == ["respond", "a\nb", "200", "next"])
    #expect(tokens[2].line == 2 && tokens[2].isOnSameLine(as: tokens[0]))
    #expect(!tokens[3].isOnSameLine(as: tokens[2]))
  }

  @Test func quotedBracesAreNotBlockOpeners() throws {
    let tokens = try Lexer.tokenize(#"respond "{" {host}"#, file: "F")
    #expect(!tokens[1].isOpenBrace)
    #expect(tokens[2].text == "{host}" && !tokens[2].isOpenBrace)
  }

  @Test func backticksAreRaw() throws {
    #expect(try texts(#"respond `{"a": "b\n"}`"#) == ["respond", #"{"a": "b\n"}"#])
  }

  @Test func heredocRemovesClosingIndentation() throws {
    let tokens = try Lexer.tokenize("respond <<HTML\n\t\t<p>hi</p>\n\t\t  indented\n\n\t\tHTML\n", file: "F")
    #expect(tokens.count == 2)
    #expect(tokens[1].text == "<p>hi</p>\n  indented\n")
    #expect(tokens[1].isQuoted && tokens[1].line == 1 && tokens[1].column == 9)
  }

  @Test func heredocErrors() throws {
    #expect(throws: CaddyfileError("unterminated heredoc; end it with a line holding only 'EOF'", file: "F", line: 1, column: 9)) {
      try Lexer.tokenize("respond <<EOF\nabc\n", file: "F")
    }
    #expect(throws: CaddyfileError.self) { try Lexer.tokenize("respond <<EOF x\nabc\nEOF", file: "F") }
    #expect(throws: CaddyfileError.self) { try Lexer.tokenize("respond <<EOF\nabc\n  EOF", file: "F") }
  }

  @Test func commentsOnlyAtTokenStart() throws {
    #expect(try texts("a # comment { }\nb#c \"#x\"\n#full line\nd") == ["a", "b#c", "#x", "d"])
  }

  @Test func lineContinuationKeepsTheLogicalLine() throws {
    let tokens = try Lexer.tokenize("reverse_proxy a:1 \\\n\tb:2\nrespond", file: "F")
    #expect(tokens.map(\.text) == ["reverse_proxy", "a:1", "b:2", "respond"])
    #expect(tokens[2].line == 2 && tokens[2].column == 2)
    #expect(tokens[2].isOnSameLine(as: tokens[0]))
    #expect(!tokens[3].isOnSameLine(as: tokens[2]))
  }

  @Test func unterminatedQuotePointsAtItsStart() throws {
    #expect(throws: CaddyfileError(
      "unterminated quoted string; add the closing '\"' (write \\\" for a quote inside it)",
      file: "Caddyfile", line: 2, column: 10)) {
      try Lexer.tokenize("a {\n\trespond \"oops\n}\n", file: "Caddyfile")
    }
    #expect(throws: CaddyfileError.self) { try Lexer.tokenize("respond `x", file: "F") }
  }

  @Test func crlfLineEndings() throws {
    let tokens = try Lexer.tokenize("a {\r\n\tb c\r\n}\r\n", file: "F")
    #expect(tokens.map(\.text) == ["a", "{", "b", "c", "}"])
    #expect(tokens[4].line == 3)
  }
}

@Suite struct EnvironmentSubstitutionTests {
  @Test func replacesVariablesAndDefaults() {
    let env = ["DOMAIN": "example.com", "EMPTY": ""]
    #expect(EnvironmentSubstitution.apply(to: "{$DOMAIN} {", environment: env) == "example.com {")
    #expect(EnvironmentSubstitution.apply(to: "{$PORT:8080}", environment: env) == "8080")
    #expect(EnvironmentSubstitution.apply(to: "{$DOMAIN:x}", environment: env) == "example.com")
    #expect(EnvironmentSubstitution.apply(to: "a{$MISSING}b", environment: env) == "ab")
    #expect(EnvironmentSubstitution.apply(to: "{$EMPTY:d}", environment: env) == "")
  }

  @Test func leavesPlaceholdersAlone() {
    let text = "{host} {http.request.uri} {args[0]} {env.HOME} {$ unclosed"
    #expect(EnvironmentSubstitution.apply(to: text, environment: ["HOME": "/h"]) == text)
  }

  @Test func parserUsesInjectedEnvironment() throws {
    let blocks = try Parser.parse(text: "{$SITE:localhost} {\n\trespond {$MSG}\n}", file: "F", environment: ["MSG": "hello"])
    #expect(blocks[0].keys.map(\.text) == ["localhost"])
    #expect(blocks[0].segments[0].tokens.map(\.text) == ["respond", "hello"])
  }
}
