/// Splits Caddyfile text into tokens.
///
/// - Tokens are separated by whitespace. A line break ends a directive, except after `\` (line continuation).
/// - `"double quotes"` may span lines; inside them `\"` is a quote and `\` before a line break drops the
///   backslash; any other backslash is kept as written (so `"C:\dir"` stays as is).
/// - `` `backticks` `` are raw: no escapes.
/// - `<<MARKER` at the start of a token and at the end of its line opens a heredoc that ends at a line
///   holding only `MARKER`; the closing line's indentation is removed from every line of the text.
/// - `#` at the start of a token comments out the rest of the line (`a#b` is one token).
/// - Quotes only open at the start of a token. `{`, `}` and placeholders like `{host}` are ordinary
///   words here; the parser decides what a lone `{` means.
public struct Lexer {
  let scalars: [Unicode.Scalar]
  let file: String
  let origin: Int
  var index = 0
  var line = 1
  var column = 1
  var logicalLine = 1
  var tokens: [Token] = []

  /// Tokenizes `text` read from `file`. `origin` tags the tokens of this read (see `Token.origin`).
  public static func tokenize(_ text: String, file: String, origin: Int = 0) throws(CaddyfileError) -> [Token] {
    var lexer = Lexer(scalars: Array(text.unicodeScalars), file: file, origin: origin)
    try lexer.run()
    return lexer.tokens
  }

  private init(scalars: [Unicode.Scalar], file: String, origin: Int) {
    self.scalars = scalars
    self.file = file
    self.origin = origin
  }

  func peek(_ offset: Int = 0) -> Unicode.Scalar? {
    index + offset < scalars.count ? scalars[index + offset] : nil
  }

  /// Consumes one scalar, keeping line and column up to date.
  mutating func advance() {
    if scalars[index] == "\n" {
      line += 1
      column = 1
    } else {
      column += 1
    }
    index += 1
  }

  /// `\` then a line break (`\n` or `\r\n`): the length of that sequence, or 0.
  private func continuationLength() -> Int {
    guard peek() == "\\" else { return 0 }
    if peek(1) == "\n" { return 2 }
    if peek(1) == "\r" && peek(2) == "\n" { return 3 }
    return 0
  }

  private mutating func run() throws(CaddyfileError) {
    while let c = peek() {
      if c == "\n" {
        advance()
        logicalLine += 1
      } else if c == " " || c == "\t" || c == "\r" || c.properties.isWhitespace {
        advance()
      } else if continuationLength() > 0 {
        for _ in 0..<continuationLength() { advance() }
      } else if c == "#" {
        while let c = peek(), c != "\n" { advance() }
      } else if c == "\"" {
        try readDoubleQuoted()
      } else if c == "`" {
        try readBacktickQuoted()
      } else if c == "<", peek(1) == "<", let m = peek(2), Self.isMarkerScalar(m) {
        try readHeredoc()
      } else {
        readWord()
      }
    }
  }

  func makeToken(_ text: String, line: Int, column: Int, quoted: Bool) -> Token {
    Token(
      text: text, file: file, line: line, column: column, isQuoted: quoted, logicalLine: logicalLine,
      origin: origin)
  }

  private mutating func readWord() {
    let (startLine, startColumn) = (line, column)
    var text = String.UnicodeScalarView()
    while let c = peek(), !(c == " " || c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace) {
      if continuationLength() > 0 { break }
      text.append(c)
      advance()
    }
    tokens.append(makeToken(String(text), line: startLine, column: startColumn, quoted: false))
  }

  private mutating func readDoubleQuoted() throws(CaddyfileError) {
    let (startLine, startColumn) = (line, column)
    advance()
    var text = String.UnicodeScalarView()
    while true {
      guard let c = peek() else {
        throw CaddyfileError(
          "unterminated quoted string; add the closing '\"' (write \\\" for a quote inside it)",
          file: file, line: startLine, column: startColumn)
      }
      if c == "\"" {
        advance()
        break
      }
      if c == "\\", let next = peek(1) {
        switch next {
        case "\"", "\n":
          text.append(next)
        default:
          text.append("\\")
          text.append(next)
        }
        advance()
        advance()
        continue
      }
      text.append(c)
      advance()
    }
    tokens.append(makeToken(String(text), line: startLine, column: startColumn, quoted: true))
  }

  private mutating func readBacktickQuoted() throws(CaddyfileError) {
    let (startLine, startColumn) = (line, column)
    advance()
    var text = String.UnicodeScalarView()
    while true {
      guard let c = peek() else {
        throw CaddyfileError(
          "unterminated backtick-quoted string; add the closing '`'", file: file, line: startLine,
          column: startColumn)
      }
      advance()
      if c == "`" { break }
      text.append(c)
    }
    tokens.append(makeToken(String(text), line: startLine, column: startColumn, quoted: true))
  }

  static func isMarkerScalar(_ c: Unicode.Scalar) -> Bool {
    (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
  }
}
