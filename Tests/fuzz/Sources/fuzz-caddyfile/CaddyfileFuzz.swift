import EdgeCaddyfile
import Foundation
import FuzzSupport

/// The Caddyfile lexer, parser and formatter (`edge fmt`). Beyond not crashing: formatting keeps every
/// token (text, quoting) and every line break between directives, and formatting twice changes nothing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaddyfile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = enterEmptyDirectoryOnce
  guard let text = caddyfileText(fuzzInput(data, size)) else { return 0 }
  _ = try? Parser.parse(text: text, file: "Caddyfile", environment: fuzzEnvironment)
  guard let tokens = try? Lexer.tokenize(text, file: "Caddyfile") else { return 0 }
  let formatted = Formatter.format(text)
  invariant(Formatter.format(formatted) == formatted, "formatting twice changes the text:\n\(formatted)")
  guard let after = try? Lexer.tokenize(formatted, file: "Caddyfile") else {
    fatalError("the formatted text does not lex:\n\(formatted)")
  }
  invariant(Shape(tokens) == Shape(after), "formatting changed the tokens:\n\(Shape(tokens))\n\(Shape(after))")
  return 0
}

private let enterEmptyDirectoryOnce: Void = enterEmptyDirectory()

/// What formatting must keep: each token's text and quoting, and where a directive's line ends.
struct Shape: Equatable, CustomStringConvertible {
  var words: [String] = []

  init(_ tokens: [Token]) {
    for (index, token) in tokens.enumerated() {
      if index > 0, !tokens[index - 1].isOnSameLine(as: token) { words.append("⏎") }
      words.append(token.isQuoted ? "\"\(token.text)\"" : token.text)
    }
  }

  var description: String { words.joined(separator: " ") }
}
