import EdgeCaddyfile

extension HeaderOperation {
  /// One operation from the arguments after a directive or inside its block: `Name value`,
  /// `+Name value`, `-Name`, `?Name value`; a leading `>` (Caddy's "defer") is accepted and changes
  /// nothing, since edge applies response operations to the response as it is written.
  static func parse(_ args: [Token], directive: String, at location: Token) throws(ConfigError) -> HeaderOperation {
    guard let field = args.first else {
      throw ConfigError("'\(directive)' needs a header name; write '\(directive) Name value'", at: location)
    }
    var name = Substring(field.text)
    if name.hasPrefix(">") { name = name.dropFirst() }
    if name.hasPrefix("-") {
      name = name.dropFirst()
      guard args.count == 1, !name.isEmpty else {
        throw ConfigError("'\(directive) -Name' deletes a header and takes no value; write '\(directive) -Name'", at: field)
      }
      return HeaderOperation(kind: .delete, name: String(name))
    }
    var kind = Kind.set
    if name.hasPrefix("+") {
      kind = .add
      name = name.dropFirst()
    } else if name.hasPrefix("?") {
      kind = .setDefault
      name = name.dropFirst()
    }
    guard !name.isEmpty else { throw ConfigError("missing header name in '\(field.text)'", at: field) }
    switch args.count {
    case 2: return HeaderOperation(kind: kind, name: String(name), value: args[1].text)
    case 3: throw ConfigError("'\(directive)' search and replace is not supported yet", at: args[1])
    default:
      throw ConfigError("'\(directive) \(field.text)' needs a value; write '\(directive) \(field.text) value'", at: field)
    }
  }

  /// A field name must be an HTTP token and a value must not break the head (no CR, LF or NUL): a
  /// quoted Caddyfile or JSON value could otherwise inject fields.
  func validate(at location: SourceLocation?) throws(ConfigError) {
    let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    guard !name.isEmpty, name.allSatisfy({ tokenCharacters.contains($0) }) else {
      throw ConfigError("header name '\(name)' is not a valid field name (letters, digits and !#$%&'*+-.^_`|~)", at: location)
    }
    if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
      throw ConfigError("the value of header '\(name)' contains a line break or NUL", at: location)
    }
  }
}
