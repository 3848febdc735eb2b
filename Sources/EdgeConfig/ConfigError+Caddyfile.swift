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

  /// A name this level of the configuration does not handle: one Caddy has and edge does not yet
  /// (`caddyOnly`: "… is not supported yet"), or an unknown one, with a did-you-mean among `candidates`.
  static func unrecognized(
    _ kind: String, _ name: String, caddyOnly: Bool, candidates: some Sequence<String>, at token: Token
  ) -> ConfigError {
    if caddyOnly { return ConfigError("\(kind) '\(name)' is not supported yet", at: token) }
    let hint = DirectiveCatalog.suggestion(for: name, among: candidates)
    return ConfigError("unknown \(kind) '\(name)'\(hint)", at: token)
  }
}
