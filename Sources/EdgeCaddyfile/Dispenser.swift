/// A cursor over one segment's tokens, for directive parsers. Starts before the first token:
///
/// ```swift
/// var d = segment.dispenser
/// _ = d.next()                        // the directive name
/// let args = d.remainingArgs()        // the rest of its line, up to a `{`
/// while d.nextBlock(0) {              // each line inside its `{ … }`
///   switch d.val { case "to": … default: throw d.error("unknown subdirective '\(d.val)'") }
/// }
/// ```
public struct Dispenser: Sendable {
  public let tokens: [Token]
  /// Index of the current token; -1 before the first `next()`.
  public private(set) var cursor = -1
  /// How many `{` blocks the cursor is inside (a `}` counts as outside its block).
  public private(set) var nesting = 0

  public init(_ tokens: [Token]) { self.tokens = tokens }

  /// The current token (the first one before any `next()`).
  public var token: Token { tokens[min(max(cursor, 0), tokens.count - 1)] }
  /// The current token's text; empty before the first `next()` or past the end.
  public var val: String { tokens.indices.contains(cursor) ? tokens[cursor].text : "" }

  /// Moves to the next token, wherever it is. False at the end.
  public mutating func next() -> Bool {
    guard cursor + 1 < tokens.count else { return false }
    cursor += 1
    if tokens[cursor].isOpenBrace { nesting += 1 }
    if tokens[cursor].isCloseBrace { nesting -= 1 }
    return true
  }

  /// Moves to the next token if it is an argument on the current line (not a brace). False otherwise,
  /// and the cursor stays.
  public mutating func nextArg() -> Bool {
    guard cursor >= 0 else { return next() }
    guard cursor + 1 < tokens.count else { return false }
    let upcoming = tokens[cursor + 1]
    guard tokens[cursor].isOnSameLine(as: upcoming), !upcoming.isOpenBrace, !upcoming.isCloseBrace else {
      return false
    }
    cursor += 1
    return true
  }

  /// The rest of the current line's arguments (up to a `{`), consumed.
  public mutating func remainingArgs() -> [String] { remainingArgTokens().map(\.text) }

  /// Like `remainingArgs()`, keeping positions for error messages.
  public mutating func remainingArgTokens() -> [Token] {
    var args: [Token] = []
    while nextArg() { args.append(tokens[cursor]) }
    return args
  }

  /// Whether the current token is the first on its line.
  public var isNewLine: Bool {
    cursor <= 0 || !tokens[cursor - 1].isOnSameLine(as: tokens[cursor])
  }

  /// Steps through a block one line at a time: the first call enters the `{` that ends the current line,
  /// each call then moves to the first token of the block's next line, and the call that reaches the
  /// matching `}` returns false. Pass the `nesting` seen on the line that opens the block. Arguments and
  /// nested blocks the caller did not read are skipped.
  public mutating func nextBlock(_ initialNesting: Int) -> Bool {
    if nesting == initialNesting {
      var k = max(cursor, 0)
      while k + 1 < tokens.count, tokens[k].isOnSameLine(as: tokens[k + 1]) { k += 1 }
      guard k > cursor, tokens[k].isOpenBrace else { return false }
      while cursor < k { _ = next() }
    }
    while next() {
      if nesting <= initialNesting { return false }
      if nesting == initialNesting + 1 && isNewLine && !tokens[cursor].isCloseBrace { return true }
    }
    return false
  }

  /// Goes back to before the first token.
  public mutating func reset() {
    cursor = -1
    nesting = 0
  }

  /// An error at the current token.
  public func error(_ message: String) -> CaddyfileError { CaddyfileError(message, at: token) }

  /// The error for a wrong number of arguments after the current token.
  public func argErr() -> CaddyfileError {
    error("wrong number of arguments after '\(val)'; check this line against the directive's syntax")
  }
}
