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
