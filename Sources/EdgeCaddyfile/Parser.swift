import Foundation

/// Turns Caddyfile text into server blocks. Knows no directive: it resolves environment variables,
/// snippets and imports, then groups tokens into blocks and segments (one per directive).
///
/// - A first block with no address (`{` at the top) holds the global options.
/// - Addresses are separated by spaces or commas; a line ending with a comma continues the list.
/// - A block opens with `{` at the end of the address line and closes with `}`. A file with a single
///   site may leave out the braces: everything after the address line belongs to that site.
/// - `(name) { … }` defines a snippet; `import name args…` pastes it, with `{args[0]}`/`{args.0}`,
///   `{args[:]}`, `{args[1:]}` replaced. `import path/*.caddy` pastes files (relative to the importing
///   file). An import must be the first word on its line.
public enum Parser {
  /// Parses `text` that was read from `file`. `environment` serves `{$NAME}` substitution.
  public static func parse(
    text: String, file: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(CaddyfileError) -> [ServerBlock] {
    var resolver = ImportResolver(environment: environment)
    let tokens = try resolver.tokens(ofText: text, file: file)
    var builder = BlockBuilder(tokens: tokens)
    return try builder.blocks()
  }

  /// Reads and parses the file at `path`.
  public static func parse(
    contentsOf path: String, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(CaddyfileError) -> [ServerBlock] {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw CaddyfileError(
        "cannot read the Caddyfile: \(error.localizedDescription); check the path and permissions",
        file: path, line: 1, column: 1)
    }
    return try parse(text: text, file: path, environment: environment)
  }
}
