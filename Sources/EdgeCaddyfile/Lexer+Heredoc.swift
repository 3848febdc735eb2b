extension Lexer {
  /// Reads `<<MARKER\n…\n    MARKER`. The text is the lines in between, each with the closing line's
  /// indentation removed; the token counts as quoted.
  mutating func readHeredoc() throws(CaddyfileError) {
    let (startLine, startColumn) = (line, column)
    advance()
    advance()
    var marker = String.UnicodeScalarView()
    while let c = peek(), Self.isMarkerScalar(c) {
      marker.append(c)
      advance()
    }
    let name = String(marker)
    if peek() == "\r" { advance() }
    guard peek() == "\n" else {
      while peek() == " " || peek() == "\t" { advance() }
      let (errorLine, errorColumn) = (line, column)
      var after = String.UnicodeScalarView()
      while let c = peek(), !(c == " " || c == "\t" || c == "\n" || c == "\r") {
        after.append(c)
        advance()
      }
      let what = !after.isEmpty ? "'\(String(after))'" : peek() == nil ? "the end of the file" : "trailing spaces"
      throw CaddyfileError(
        "unexpected \(what) after heredoc marker '<<\(name)'; the marker must end its line and the text start "
          + "on the next line", file: file, line: errorLine, column: errorColumn)
    }
    advance()
    var lines: [(text: String, line: Int)] = []
    while true {
      guard peek() != nil else {
        throw CaddyfileError(
          "unterminated heredoc; end it with a line holding only '\(name)'", file: file, line: startLine,
          column: startColumn)
      }
      var end = index
      while end < scalars.count, scalars[end] != "\n" { end += 1 }
      var text = String(String.UnicodeScalarView(scalars[index..<end]))
      if let indent = Self.heredocClosingIndent(text, marker: name) {
        // The closing marker; anything after it on the line is more tokens (`HTML 200`).
        let body = try Self.dedent(lines, by: indent, file: file)
        tokens.append(makeToken(body, line: startLine, column: startColumn, quoted: true))
        for _ in 0..<(indent.unicodeScalars.count + name.unicodeScalars.count) { advance() }
        return
      }
      if text.hasSuffix("\r") { text.removeLast() }
      lines.append((text, line))
      while index < end { advance() }
      if peek() == "\n" { advance() }
    }
  }

  /// The indentation of `line` (a heredoc line without its LF) when it closes the heredoc of `marker`: the
  /// marker after spaces or tabs, then the end of the line (a CR before it allowed) or a space or tab and
  /// more tokens. Nil when the line is heredoc text. `edge fmt` (`RawLines`) asks the same question.
  /// Compared scalar by scalar: as Characters, a space followed by a combining mark is not a space, and
  /// `edge fmt` putting one space before such a mark would have turned the closing line into text.
  static func heredocClosingIndent(_ line: String, marker: String) -> String? {
    var scalars = Array(line.unicodeScalars)
    if scalars.last == "\r" { scalars.removeLast() }
    var start = 0
    while start < scalars.count, scalars[start] == " " || scalars[start] == "\t" { start += 1 }
    let name = Array(marker.unicodeScalars)
    let after = start + name.count
    guard after <= scalars.count, Array(scalars[start..<after]) == name,
      after == scalars.count || scalars[after] == " " || scalars[after] == "\t"
    else { return nil }
    return String(String.UnicodeScalarView(scalars[0..<start]))
  }

  private static func dedent(
    _ lines: [(text: String, line: Int)], by indent: String, file: String
  ) throws(CaddyfileError) -> String {
    var out: [String] = []
    for (text, line) in lines {
      if text.hasPrefix(indent) {
        out.append(String(text.dropFirst(indent.count)))
      } else if text.allSatisfy({ $0 == " " || $0 == "\t" }) {
        out.append("")
      } else {
        throw CaddyfileError(
          "heredoc line is indented less than its closing marker; indent it at least as much as the marker",
          file: file, line: line, column: 1)
      }
    }
    return out.joined(separator: "\n")
  }
}
