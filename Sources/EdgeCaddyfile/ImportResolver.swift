import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Pastes snippets and imported files into the token stream, in written order (a snippet must be
/// defined before it is imported). Each pasted copy gets its own `Token.origin`. Refuses cycles.
struct ImportResolver {
  private let environment: [String: String]
  private var snippets: [String: [Token]] = [:]
  /// What is being pasted right now (`snippet name` or a file path), outermost first.
  private var active: [String] = []
  private var nextOrigin = 1

  init(environment: [String: String]) { self.environment = environment }

  /// Tokens of a whole file's text, with environment variables replaced and imports resolved.
  mutating func tokens(ofText text: String, file: String) throws(CaddyfileError) -> [Token] {
    let substituted = EnvironmentSubstitution.apply(to: text, environment: environment)
    active.append(Self.canonicalPath(file))
    defer { active.removeLast() }
    return try expand(try Lexer.tokenize(substituted, file: file, origin: takeOrigin()))
  }

  private mutating func takeOrigin() -> Int {
    defer { nextOrigin += 1 }
    return nextOrigin
  }

  private mutating func expand(_ input: [Token]) throws(CaddyfileError) -> [Token] {
    var output: [Token] = []
    var nesting = 0
    var i = 0
    while i < input.count {
      let token = input[i]
      let startsLine = i == 0 || !input[i - 1].isOnSameLine(as: token)
      if startsLine && nesting == 0, let name = Self.snippetName(token), i + 1 < input.count,
        input[i + 1].isOpenBrace, token.isOnSameLine(as: input[i + 1])
      {
        i = try defineSnippet(name, at: token, in: input, openBrace: i + 1)
        continue
      }
      if startsLine && !token.isQuoted && token.text == "import" {
        var args: [Token] = []
        var j = i + 1
        while j < input.count, token.isOnSameLine(as: input[j]) {
          args.append(input[j])
          j += 1
        }
        output += try resolveImport(at: token, arguments: args)
        i = j
        continue
      }
      if token.isOpenBrace { nesting += 1 }
      if token.isCloseBrace { nesting = max(0, nesting - 1) }
      output.append(token)
      i += 1
    }
    return output
  }

  /// `(name)` → `name`.
  static func snippetName(_ token: Token) -> String? {
    let text = token.text
    guard !token.isQuoted, text.count > 2, text.hasPrefix("("), text.hasSuffix(")") else { return nil }
    return String(text.dropFirst().dropLast())
  }

  /// Stores the snippet whose `{` is at `openBrace`; returns the index after its closing `}`.
  private mutating func defineSnippet(
    _ name: String, at nameToken: Token, in input: [Token], openBrace: Int
  ) throws(CaddyfileError) -> Int {
    if snippets[name] != nil {
      throw CaddyfileError("snippet '\(name)' is defined twice; rename one of them", at: nameToken)
    }
    var depth = 1
    var j = openBrace + 1
    var body: [Token] = []
    while j < input.count {
      let token = input[j]
      if token.isOpenBrace { depth += 1 }
      if token.isCloseBrace {
        depth -= 1
        if depth == 0 {
          snippets[name] = body
          return j + 1
        }
      }
      body.append(token)
      j += 1
    }
    throw CaddyfileError("snippet '\(name)' is never closed; add a matching '}'", at: input[openBrace])
  }

  private mutating func resolveImport(at token: Token, arguments: [Token]) throws(CaddyfileError) -> [Token] {
    guard let pattern = arguments.first else {
      throw CaddyfileError("import needs a snippet name or a file path, as in 'import common'", at: token)
    }
    if let brace = arguments.first(where: \.isOpenBrace) {
      throw CaddyfileError("import with a block is not supported yet; pass arguments on the same line", at: brace)
    }
    let args = arguments.dropFirst().map(\.text)
    if let body = snippets[pattern.text] {
      return try paste(body, key: "snippet '\(pattern.text)'", args: args, importedAt: token)
    }
    var output: [Token] = []
    for path in try Self.files(matching: pattern, snippets: snippets.keys.sorted()) {
      let text: String
      do {
        text = try String(contentsOfFile: path, encoding: .utf8)
      } catch {
        throw CaddyfileError(
          "cannot read imported file '\(path)': \(error.localizedDescription); check the path "
            + "(relative paths start at the importing file's folder)", at: pattern)
      }
      let key = Self.canonicalPath(path)
      try checkCycle(key, display: path, at: token)
      active.append(key)
      defer { active.removeLast() }
      let substituted = EnvironmentSubstitution.apply(to: text, environment: environment)
      let raw = try Lexer.tokenize(substituted, file: path, origin: takeOrigin())
      output += try expand(try ArgumentSubstitution.apply(args, to: raw, importedAt: token))
    }
    return output
  }

  /// Pastes snippet tokens: arguments replaced, then nested imports resolved.
  private mutating func paste(
    _ body: [Token], key: String, args: [String], importedAt token: Token
  ) throws(CaddyfileError) -> [Token] {
    try checkCycle(key, display: key, at: token)
    active.append(key)
    defer { active.removeLast() }
    let origin = takeOrigin()
    var copy = try ArgumentSubstitution.apply(args, to: body, importedAt: token)
    for k in copy.indices { copy[k].origin = origin }
    return try expand(copy)
  }

  private func checkCycle(_ key: String, display: String, at token: Token) throws(CaddyfileError) {
    guard let start = active.firstIndex(of: key) else { return }
    let chain = (active[start...] + [key]).joined(separator: " → ")
    throw CaddyfileError("import cycle: \(chain); remove one of these imports", at: token)
  }

  /// The files an import pattern names, relative to the importing token's file, sorted. A glob may
  /// match nothing; a plain path must exist.
  private static func files(matching pattern: Token, snippets: [String]) throws(CaddyfileError) -> [String] {
    var path = pattern.text
    if !path.hasPrefix("/") {
      let folder = (pattern.file as NSString).deletingLastPathComponent
      if !folder.isEmpty { path = folder + "/" + path }
    }
    guard path.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) else {
      guard FileManager.default.fileExists(atPath: path) else {
        let defined = snippets.isEmpty ? "" : "defined so far: \(snippets.joined(separator: ", ")); "
        throw CaddyfileError(
          "import '\(pattern.text)': no snippet of that name (\(defined)snippets must be defined before they are "
            + "imported) and no file at '\(path)'", at: pattern)
      }
      return [path]
    }
    var result = glob_t()
    defer { globfree(&result) }
    guard glob(path, 0, nil, &result) == 0 else { return [] }
    var matches: [String] = []
    for k in 0..<Int(result.gl_pathc) {
      if let cString = result.gl_pathv[k] { matches.append(String(cString: cString)) }
    }
    let own = canonicalPath(pattern.file)
    return matches.filter { canonicalPath($0) != own }.sorted()
  }

  private static func canonicalPath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
  }
}
