/// Replaces import arguments in pasted tokens: `{args[0]}` or `{args.0}` is one argument, `{args[:]}`
/// all of them, `{args[1:]}` / `{args[:2]}` / `{args[1:3]}` a range. A token that is only a range becomes
/// one token per argument; inside a longer token a range is joined with spaces.
enum ArgumentSubstitution {
  private enum Selection {
    case index(Int)
    case range(Int?, Int?)
  }

  private struct Placeholder {
    var range: Range<String.Index>
    var selection: Selection
  }

  /// Snippet definitions among `tokens` are copied as they are: their `{args}` belong to their own imports.
  /// `importedAt` is the `import` being resolved, named in errors.
  static func apply(_ args: [String], to tokens: [Token], importedAt site: Token) throws(CaddyfileError) -> [Token] {
    var output: [Token] = []
    var snippetDepth = 0
    for (i, token) in tokens.enumerated() {
      if snippetDepth == 0, i + 1 < tokens.count, ImportResolver.snippetName(token) != nil,
        tokens[i + 1].isOpenBrace, i == 0 || !tokens[i - 1].isOnSameLine(as: token)
      {
        snippetDepth = -1  // the name; depth counting starts at its `{`
      }
      if snippetDepth != 0 {
        if token.isOpenBrace { snippetDepth = snippetDepth < 0 ? 1 : snippetDepth + 1 }
        if token.isCloseBrace { snippetDepth -= 1 }
        output.append(token)
        continue
      }
      guard token.text.contains("{args") else {
        output.append(token)
        continue
      }
      let found = placeholders(in: token.text)
      if found.count == 1, found[0].range == token.text.startIndex..<token.text.endIndex,
        case .range(let lo, let hi) = found[0].selection
      {
        for arg in try slice(args, lo, hi, at: token, importedAt: site) {
          var copy = token
          copy.text = arg
          output.append(copy)
        }
        continue
      }
      var text = token.text
      for placeholder in found.reversed() {
        let value: String
        switch placeholder.selection {
        case .index(let n):
          guard n < args.count else {
            throw CaddyfileError(
              "'{args[\(n)]}' needs at least \(n + 1) import argument(s) but the import at \(site.position) gives "
                + "\(args.count); pass more arguments to 'import'", at: token)
          }
          value = args[n]
        case .range(let lo, let hi):
          value = try slice(args, lo, hi, at: token, importedAt: site).joined(separator: " ")
        }
        text.replaceSubrange(placeholder.range, with: value)
      }
      var copy = token
      copy.text = text
      output.append(copy)
    }
    return output
  }

  private static func slice(
    _ args: [String], _ lo: Int?, _ hi: Int?, at token: Token, importedAt site: Token
  ) throws(CaddyfileError) -> [String] {
    let start = lo ?? 0
    let end = hi ?? args.count
    guard start <= end, end <= args.count else {
      throw CaddyfileError(
        "argument range [\(lo.map(String.init) ?? ""):\(hi.map(String.init) ?? "")] is outside the "
          + "\(args.count) import argument(s) of the import at \(site.position); pass more arguments or narrow the "
          + "range", at: token)
    }
    return Array(args[start..<end])
  }

  private static func placeholders(in text: String) -> [Placeholder] {
    var found: [Placeholder] = []
    var search = text.startIndex
    while let open = text[search...].firstRange(of: "{args") {
      let rest = text[open.upperBound...]
      guard let close = rest.firstIndex(of: "}") else { break }
      let inner = rest[..<close]
      let end = text.index(after: close)
      if let selection = parse(inner) {
        found.append(Placeholder(range: open.lowerBound..<end, selection: selection))
        search = end
      } else {
        search = open.upperBound
      }
    }
    return found
  }

  /// `[0]`, `.0`, `[:]`, `[1:]`, `[:2]`, `[1:3]`.
  private static func parse(_ inner: Substring) -> Selection? {
    if inner.hasPrefix("."), let n = Int(inner.dropFirst()), n >= 0 { return .index(n) }
    guard inner.hasPrefix("["), inner.hasSuffix("]") else { return nil }
    let body = inner.dropFirst().dropLast()
    if let n = Int(body), n >= 0 { return .index(n) }
    let parts = body.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2 else { return nil }
    let lo = parts[0].isEmpty ? nil : Int(parts[0])
    let hi = parts[1].isEmpty ? nil : Int(parts[1])
    if (!parts[0].isEmpty && lo == nil) || (!parts[1].isEmpty && hi == nil) { return nil }
    return .range(lo, hi)
  }
}
