/// A Caddyfile that cannot be read, with where: `Caddyfile:3:14: unterminated quoted string; …`.
public struct CaddyfileError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public var file: String
  public var line: Int
  public var column: Int

  public init(_ message: String, file: String, line: Int, column: Int) {
    self.message = message
    self.file = file
    self.line = line
    self.column = column
  }

  /// An error positioned at `token`.
  public init(_ message: String, at token: Token) {
    self.init(message, file: token.file, line: token.line, column: token.column)
  }

  public var description: String { "\(file):\(line):\(column): \(message)" }
}
