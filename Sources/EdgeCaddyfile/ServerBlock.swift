/// One top-level block of a Caddyfile: the site addresses it is for and its directives.
/// The global options block is the first block written without any address (`{` at the top).
public struct ServerBlock: Sendable, Equatable {
  /// Site addresses as written, commas removed: `example.com`, `http://:8080`. Empty for global options.
  public var keys: [Token]
  /// The directives, in written order.
  public var segments: [Segment]

  public init(keys: [Token], segments: [Segment]) {
    self.keys = keys
    self.segments = segments
  }

  /// Whether this is the global options block.
  public var isGlobalOptions: Bool { keys.isEmpty }
}

/// One directive: its name, arguments and nested blocks (braces included), e.g. the tokens of
/// `reverse_proxy app:8080 { lb_policy round_robin }`.
public struct Segment: Sendable, Equatable {
  /// Never empty.
  public var tokens: [Token]

  public init(tokens: [Token]) {
    precondition(!tokens.isEmpty, "a segment holds at least its directive name")
    self.tokens = tokens
  }

  /// The directive name: the first token.
  public var directive: String { tokens[0].text }
  /// The directive's name token, for error positions.
  public var first: Token { tokens[0] }
  /// A cursor over the tokens, before the directive name.
  public var dispenser: Dispenser { Dispenser(tokens) }
}
