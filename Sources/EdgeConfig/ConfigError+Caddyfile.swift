import EdgeCaddyfile

extension SourceLocation {
  /// Where `token` was written.
  public init(_ token: Token) {
    self.init(file: token.file, line: token.line, column: token.column)
  }
}

extension ConfigError {
  /// A syntax error from the Caddyfile parser, with its position.
  public init(_ error: CaddyfileError) {
    self.init(error.message, at: SourceLocation(file: error.file, line: error.line, column: error.column))
  }

  /// An error at `token`.
  init(_ message: String, at token: Token) {
    self.init(message, at: SourceLocation(token))
  }
}
