/// One Caddyfile token: a word, a quoted string, a heredoc, or a brace, with where it was written.
public struct Token: Sendable, Equatable, CustomStringConvertible {
  /// The token's text, with quotes removed and escapes applied.
  public var text: String
  /// The file it was read from (as given to the lexer), for error messages.
  public var file: String
  /// 1-based line of the token's first character.
  public var line: Int
  /// 1-based column (in Unicode scalars) of the token's first character, quote included.
  public var column: Int
  /// Written in double quotes, backticks or as a heredoc: never a brace, comment or block opener.
  public var isQuoted: Bool
  /// Counts the line breaks that end a directive: unlike `line`, it does not advance over a `\` line
  /// continuation nor inside a multi-line quoted token. Two tokens are on the same logical line when
  /// this and `origin` are equal.
  public var logicalLine: Int
  /// Which read of a file or snippet the token came from (each `import` gets a new one), so tokens
  /// imported twice from the same lines are still seen as separate lines.
  public var origin: Int

  public init(
    text: String, file: String = "", line: Int = 1, column: Int = 1, isQuoted: Bool = false,
    logicalLine: Int? = nil, origin: Int = 0
  ) {
    self.text = text
    self.file = file
    self.line = line
    self.column = column
    self.isQuoted = isQuoted
    self.logicalLine = logicalLine ?? line
    self.origin = origin
  }

  /// `{` as a token of its own, not quoted: opens a block.
  public var isOpenBrace: Bool { !isQuoted && text == "{" }
  /// `}` as a token of its own, not quoted: closes a block.
  public var isCloseBrace: Bool { !isQuoted && text == "}" }

  /// Whether `other` (coming after this token) starts a new line of the configuration.
  public func isOnSameLine(as other: Token) -> Bool {
    origin == other.origin && file == other.file && logicalLine == other.logicalLine
  }

  /// `file:line:column`.
  public var position: String { "\(file):\(line):\(column)" }

  public var description: String { isQuoted ? "\"\(text)\"" : text }
}
