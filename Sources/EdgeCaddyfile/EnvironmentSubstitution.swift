/// Caddyfile environment variables, replaced in the text before it is tokenized: `{$NAME}` becomes the
/// variable's value (empty when unset) and `{$NAME:default}` the value or, when unset, `default`.
/// Runtime placeholders such as `{host}` or `{env.NAME}` are left alone.
public enum EnvironmentSubstitution {
  public static func apply(to text: String, environment: [String: String]) -> String {
    guard text.contains("{$") else { return text }
    var out = ""
    var rest = Substring(text)
    while let start = Self.openingIndex(in: rest) {
      out += rest[..<start]
      let afterOpen = rest[rest.index(start, offsetBy: 2)...]
      guard let close = afterOpen.firstIndex(of: "}"),
        !afterOpen[..<close].contains(where: { $0 == "\n" || $0 == "{" })
      else {
        out += "{$"
        rest = afterOpen
        continue
      }
      let inner = afterOpen[..<close]
      let name: Substring
      let fallback: Substring?
      if let colon = inner.firstIndex(of: ":") {
        name = inner[..<colon]
        fallback = inner[inner.index(after: colon)...]
      } else {
        name = inner
        fallback = nil
      }
      if let value = environment[String(name)] {
        out += value
      } else if let fallback {
        out += fallback
      }
      rest = afterOpen[afterOpen.index(after: close)...]
    }
    out += rest
    return out
  }

  /// Where the next `{$` starts.
  private static func openingIndex(in text: Substring) -> Substring.Index? {
    var i = text.startIndex
    while let brace = text[i...].firstIndex(of: "{") {
      let next = text.index(after: brace)
      if next < text.endIndex && text[next] == "$" { return brace }
      i = next
    }
    return nil
  }
}
