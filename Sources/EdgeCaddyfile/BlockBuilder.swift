/// Groups a flat token list (imports already pasted) into server blocks and segments, checking that
/// braces balance. See `Parser` for the rules.
struct BlockBuilder {
  private let tokens: [Token]
  private var index = 0

  init(tokens: [Token]) { self.tokens = tokens }

  mutating func blocks() throws(CaddyfileError) -> [ServerBlock] {
    var blocks: [ServerBlock] = []
    if let first = tokens.first, first.isOpenBrace {
      index += 1
      try checkNothingAfterOpenBrace(first)
      blocks.append(ServerBlock(keys: [], segments: try segments(closedBy: first)))
    }
    while index < tokens.count {
      let first = tokens[index]
      let keys = try readKeys()
      // Only commas (`,` or `,,`) split into no address at all; a block without keys would pass for the
      // global options block, which may only come first.
      if keys.isEmpty {
        throw CaddyfileError("'\(first.text)' is not a site address; write the address before the comma", at: first)
      }
      if index < tokens.count, tokens[index].isOpenBrace {
        let brace = tokens[index]
        index += 1
        try checkNothingAfterOpenBrace(brace)
        blocks.append(ServerBlock(keys: keys, segments: try segments(closedBy: brace)))
      } else {
        // No braces: the rest of the file belongs to this site.
        blocks.append(ServerBlock(keys: keys, segments: try segments(closedBy: nil)))
      }
    }
    return blocks
  }

  /// Site addresses up to the `{` or the end of the line; a trailing comma continues on the next line.
  private mutating func readKeys() throws(CaddyfileError) -> [Token] {
    var keys: [Token] = []
    while index < tokens.count {
      let token = tokens[index]
      if token.isOpenBrace {
        if keys.isEmpty {
          throw CaddyfileError(
            "block without a site address; only the first block of the file can be the global options "
              + "block, write the site address before '{'", at: token)
        }
        break
      }
      if token.isCloseBrace {
        throw CaddyfileError("unexpected '}' without a matching '{'; remove it or add the '{'", at: token)
      }
      index += 1
      keys += Self.splitKey(token)
      guard index < tokens.count else { break }
      let continues = token.text.hasSuffix(",") || tokens[index].text.hasPrefix(",")
      if !token.isOnSameLine(as: tokens[index]) && !continues { break }
    }
    return keys
  }

  /// `a.com,b.com,` → `a.com`, `b.com`, with columns adjusted.
  private static func splitKey(_ token: Token) -> [Token] {
    guard token.text.contains(",") && !token.isQuoted else { return [token] }
    var parts: [Token] = []
    var offset = 0
    for part in token.text.split(separator: ",", omittingEmptySubsequences: false) {
      if !part.isEmpty {
        var key = token
        key.text = String(part)
        key.column += offset
        parts.append(key)
      }
      offset += part.unicodeScalars.count + 1
    }
    return parts
  }

  private func checkNothingAfterOpenBrace(_ brace: Token) throws(CaddyfileError) {
    if index < tokens.count, brace.isOnSameLine(as: tokens[index]) {
      throw CaddyfileError(
        "unexpected '\(tokens[index].text)' after '{' on the same line; start the block's contents on "
          + "the next line", at: tokens[index])
    }
  }

  /// Segments up to the `}` matching `opening` (consumed), or to the end of the file when nil.
  private mutating func segments(closedBy opening: Token?) throws(CaddyfileError) -> [Segment] {
    var segments: [Segment] = []
    while index < tokens.count {
      let token = tokens[index]
      if token.isCloseBrace {
        guard opening != nil else {
          throw CaddyfileError(
            "unexpected '}' without a matching '{'; did you forget '{' after a site address?", at: token)
        }
        index += 1
        return segments
      }
      if token.isOpenBrace {
        throw CaddyfileError(
          "unexpected '{'; a block opens at the end of a directive's line, as in 'directive args {'",
          at: token)
      }
      segments.append(try segment())
    }
    if let opening {
      throw CaddyfileError("'{' is never closed; add a matching '}'", at: opening)
    }
    return segments
  }

  /// One directive: the rest of its line plus any blocks it opens.
  private mutating func segment() throws(CaddyfileError) -> Segment {
    var collected = [tokens[index]]
    var open: [Token] = []
    index += 1
    while index < tokens.count {
      let token = tokens[index]
      let previous = tokens[index - 1]
      if open.isEmpty && !previous.isOnSameLine(as: token) { break }
      if token.isOpenBrace {
        open.append(token)
        index += 1
        try checkNothingAfterOpenBrace(token)
      } else if token.isCloseBrace {
        guard !open.isEmpty else {
          throw CaddyfileError(
            "unexpected '}' on the same line as '\(collected[0].text)'; put the closing brace on its own line",
            at: token)
        }
        open.removeLast()
        index += 1
      } else {
        index += 1
      }
      collected.append(token)
    }
    if let unclosed = open.last {
      throw CaddyfileError("'{' is never closed; add a matching '}'", at: unclosed)
    }
    return Segment(tokens: collected)
  }
}
