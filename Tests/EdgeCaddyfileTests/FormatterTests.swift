import Testing

@testable import EdgeCaddyfile

@Suite struct FormatterTests {
  @Test func indentsAndCollapsesSpace() {
    let messy = """


      {
          email   a@b.c
      }



      a.com,   b.com {
        # keep me
         reverse_proxy  /api/*   app:1 {
        header_up   Host  "a  b"
        }
      respond "x   y"   200   # trailing
      }

      """
    #expect(Formatter.format(messy) == """
      {
      \temail a@b.c
      }

      a.com, b.com {
      \t# keep me
      \treverse_proxy /api/* app:1 {
      \t\theader_up Host "a  b"
      \t}
      \trespond "x   y" 200 # trailing
      }

      """)
  }

  @Test func keepsHeredocsVerbatimAndIsIdempotent() throws {
    let text = "a {\n  respond <<EOF\n    keep   this\n    EOF   200\n}\n"
    let formatted = Formatter.format(text)
    #expect(formatted == "a {\n\trespond <<EOF\n    keep   this\n    EOF 200\n}\n")
    #expect(Formatter.format(formatted) == formatted)
    let before = try Parser.parse(text: text, file: "F", environment: [:])
    let after = try Parser.parse(text: formatted, file: "F", environment: [:])
    #expect(before[0].segments[0].tokens.map(\.text) == after[0].segments[0].tokens.map(\.text))
  }

  @Test func emptyInput() {
    #expect(Formatter.format("\n\n") == "")
  }
}

/// Inputs fuzz-caddyfile (Tests/fuzz) found: formatting must keep every token.
@Suite struct FormatterFuzzRegressionTests {
  /// A `\` that is a character (the text ends, or whitespace follows it) became a line continuation once
  /// the formatter trimmed the whitespace or added the final line break: `a\` lost its backslash and the
  /// next line joined the directive.
  @Test(arguments: [
    "\n\\", "respond a\\", "respond a\\\t\t\n\nb.example {\n}\n", "x \\ \ny\n",
    // A form feed (Unicode whitespace) splits tokens in the lexer; the formatter took `\u{0C}"` for one word
    // and the quoted string after it for the start of another.
    "\u{0C}\"\n\"", "a\u{0C}b \"c\nd\"\n", "a\u{2028}b\n",
    // A closing-marker line is the lexer's to decide: `EOF\r\u{0}` is heredoc text, not its end.
    "<<EOF\nEOF\r\u{0}\nEOF", "respond <<EOF\n  a\n  EOF\r\n", "respond <<EOF\nx\nEOF\u{301}\nEOF 200\n",
    // After the marker, a tab then a combining mark: formatted as a space then the mark, which as a
    // Character is no longer a space, and the closing line became heredoc text.
    "<<F\nF\t\u{5B0}",
    // A prepending mark (U+0602) and the `\` after it are one Character: the literal backslash went unseen.
    "\u{602}\\",
  ])
  func formattingKeepsEveryToken(text: String) throws {
    let formatted = Formatter.format(text)
    let before = try Lexer.tokenize(text, file: "t")
    let after = try Lexer.tokenize(formatted, file: "t")
    #expect(before.map(\.text) == after.map(\.text))
    #expect(lineBreaks(before) == lineBreaks(after))
    #expect(Formatter.format(formatted) == formatted)
  }

  /// For each token after the first, whether it starts a new directive line.
  func lineBreaks(_ tokens: [Token]) -> [Bool] {
    zip(tokens, tokens.dropFirst()).map { !$0.isOnSameLine(as: $1) }
  }

  @Test func continuationStillJoinsLines() throws {
    let text = "respond a \\\n\tb\n"
    let formatted = Formatter.format(text)
    #expect(try Lexer.tokenize(formatted, file: "t").map(\.logicalLine) == [1, 1, 1])
  }
}
