/// `edge fmt`: rewrites Caddyfile text in a canonical layout without changing its meaning. One tab per
/// nesting level, one space between tokens, at most one blank line in a row, no blank lines at the start
/// or end, and a final newline. Comments, quoted strings, backticks and heredocs are kept as written.
public enum Formatter {
  public static func format(_ text: String) -> String {
    var lines: [String] = []
    var nesting = 0
    var continued = false
    for raw in RawLines(text) {
      guard let first = raw.tokens.first else {
        if lines.last.map({ !$0.isEmpty }) ?? false { lines.append("") }
        continue
      }
      if first == "}" && !continued { nesting = max(0, nesting - 1) }
      let indent = String(repeating: "\t", count: nesting + (continued ? 1 : 0))
      // A line that ends in a literal `\` (whitespace or the end of the text after it) keeps a space
      // there: with the line break right after it, it would become a line continuation.
      let keepSpace = raw.endsInLiteralBackslash ? " " : ""
      lines.append(indent + raw.tokens.joined(separator: " ") + keepSpace)
      for (i, token) in raw.tokens.enumerated() {
        if token == "{" { nesting += 1 }
        if token == "}" && (i > 0 || continued) { nesting = max(0, nesting - 1) }
      }
      continued = raw.tokens.last == "\\" && !raw.endsInLiteralBackslash
    }
    while lines.last == "" { lines.removeLast() }
    return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
  }
}

/// Splits text into lines of raw tokens (quotes, comments and heredocs kept verbatim; a token that spans
/// lines belongs to the line it starts on).
struct RawLines: Sequence, IteratorProtocol {
  private let scalars: [Unicode.Scalar]
  private var index = 0

  init(_ text: String) { scalars = Array(text.unicodeScalars) }

  struct Line {
    var tokens: [String]
    /// The last token ends with `\` and no line break follows that directly: the backslash is a character,
    /// not a line continuation.
    var endsInLiteralBackslash = false
  }

  mutating func next() -> Line? {
    guard index < scalars.count else { return nil }
    var tokens: [String] = []
    // Whether the last token is a word directly followed by a line break.
    var lastWordBreaksLine = false
    var lastIsWord = false
    while index < scalars.count {
      let c = scalars[index]
      if c == "\n" {
        index += 1
        break
      }
      if Self.separates(c) {
        index += 1
        continue
      }
      lastIsWord = false
      let start = index
      if c == "#" {
        while index < scalars.count, scalars[index] != "\n" { index += 1 }
        tokens.append(text(start, trimTrailing: true))
        continue
      }
      if c == "\"" || c == "`" {
        index += 1
        while index < scalars.count, scalars[index] != c {
          index += (c == "\"" && scalars[index] == "\\") ? 2 : 1
        }
        index = Swift.min(index + 1, scalars.count)
      } else if c == "<", heredocMarker() != nil, let marker = heredocMarker() {
        skipHeredoc(marker)
      } else {
        while index < scalars.count, scalars[index] != "\n", !Self.separates(scalars[index]) { index += 1 }
        lastIsWord = true
        lastWordBreaksLine = breaksLine(at: index)
      }
      tokens.append(text(start, trimTrailing: false))
    }
    // By scalar: as a Character, a `\` after a prepending mark (U+0600…) is part of one grapheme.
    let literalBackslash = lastIsWord && !lastWordBreaksLine && tokens.last?.unicodeScalars.last == "\\"
    return Line(tokens: tokens, endsInLiteralBackslash: literalBackslash)
  }

  /// Whitespace between tokens within a line, as the lexer sees it: SP, HTAB, CR and any other Unicode
  /// whitespace but LF (a form feed splits tokens there, so it must here too).
  static func separates(_ c: Unicode.Scalar) -> Bool {
    c == " " || c == "\t" || c == "\r" || (c != "\n" && c.properties.isWhitespace)
  }

  /// A line break the lexer takes after a `\` as a continuation: LF or CRLF.
  private func breaksLine(at i: Int) -> Bool {
    guard i < scalars.count else { return false }
    return scalars[i] == "\n" || (scalars[i] == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n")
  }

  private func text(_ start: Int, trimTrailing: Bool) -> String {
    var s = String(String.UnicodeScalarView(scalars[start..<index]))
    while trimTrailing, let last = s.last, last == " " || last == "\t" || last == "\r" { s.removeLast() }
    return s
  }

  /// The marker of `<<MARKER` at the cursor when the line ends right after it.
  private func heredocMarker() -> String? {
    guard index + 2 < scalars.count, scalars[index + 1] == "<" else { return nil }
    var end = index + 2
    while end < scalars.count, Lexer.isMarkerScalar(scalars[end]) { end += 1 }
    guard end > index + 2, end < scalars.count, scalars[end] == "\n" || scalars[end] == "\r" else { return nil }
    return String(String.UnicodeScalarView(scalars[(index + 2)..<end]))
  }

  /// Moves past the heredoc's closing marker (the rest of that line stays for the next tokens). Which line
  /// closes it is the lexer's decision (`Lexer.heredocClosingIndent`), so both see the same heredoc.
  private mutating func skipHeredoc(_ marker: String) {
    while index < scalars.count, scalars[index] != "\n" { index += 1 }
    while index < scalars.count {
      index += 1  // past the LF
      var end = index
      while end < scalars.count, scalars[end] != "\n" { end += 1 }
      let line = String(String.UnicodeScalarView(scalars[index..<end]))
      if let indent = Lexer.heredocClosingIndent(line, marker: marker) {
        index += indent.unicodeScalars.count + marker.unicodeScalars.count
        return
      }
      index = end
    }
  }
}
