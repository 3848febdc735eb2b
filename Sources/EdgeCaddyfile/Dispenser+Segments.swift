extension Dispenser {
  /// The directives inside the block that ends the current line (`handle /api/* { … }`), one segment
  /// each with its own nested blocks, and moves past the block. Empty when the line opens no block.
  public mutating func nestedSegments() -> [Segment] {
    // The block opens at the last token of the current line.
    var open = max(cursor, 0)
    while open + 1 < tokens.count, tokens[open].isOnSameLine(as: tokens[open + 1]) { open += 1 }
    guard open > cursor || cursor < 0, tokens.indices.contains(open), tokens[open].isOpenBrace else { return [] }
    var segments: [Segment] = []
    var current: [Token] = []
    var depth = 0
    var index = open + 1
    while index < tokens.count {
      let token = tokens[index]
      if depth == 0 && token.isCloseBrace { break }
      if depth == 0 && !token.isOpenBrace && (current.isEmpty || !tokens[index - 1].isOnSameLine(as: token)) {
        if !current.isEmpty { segments.append(Segment(tokens: current)) }
        current = []
      }
      if token.isOpenBrace { depth += 1 }
      if token.isCloseBrace { depth -= 1 }
      current.append(token)
      index += 1
    }
    if !current.isEmpty { segments.append(Segment(tokens: current)) }
    // Leave the cursor on the block's closing brace.
    while cursor < index, next() {}
    return segments
  }
}
