/// The parts of an absolute http(s) URL a client needs to connect and write the request line.
struct HTTPEndpoint: Hashable, Sendable {
  let secure: Bool
  /// Host without IPv6 brackets, lower-cased.
  let host: String
  let port: Int
  /// Path and query (never empty; "/" at least), the fragment dropped.
  let target: String

  /// `Host:` field value: brackets around IPv6, port only when not the scheme's default.
  var hostField: String {
    let name = host.contains(":") ? "[\(host)]" : host
    return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
  }

  /// Connections are shared between requests with the same key.
  var poolKey: String { "\(secure ? "https" : "http")://\(hostField)" }

  init(_ url: String) throws(ACMEError) {
    guard !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7f }) else {
      throw ACMEError(.invalidInput, "'\(url)' contains spaces or control characters")
    }
    let lowered = url.lowercased()
    let rest: Substring
    if lowered.hasPrefix("https://") {
      secure = true
      rest = url.dropFirst(8)
    } else if lowered.hasPrefix("http://") {
      secure = false
      rest = url.dropFirst(7)
    } else {
      throw ACMEError(.invalidInput, "'\(url)' is not an http(s) URL")
    }
    let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    var path = rest[authorityEnd...]
    if let fragment = path.firstIndex(of: "#") { path = path[..<fragment] }
    target = path.isEmpty ? "/" : (path.first == "?" ? "/" + path : String(path))
    guard !authority.contains("@") else { throw ACMEError(.invalidInput, "'\(url)': credentials in URLs are refused") }

    var hostPart: Substring
    var portPart: Substring? = nil
    if authority.first == "[" {
      guard let close = authority.firstIndex(of: "]") else { throw ACMEError(.invalidInput, "'\(url)': unclosed '['") }
      hostPart = authority[authority.index(after: authority.startIndex)..<close]
      let after = authority[authority.index(after: close)...]
      if after.first == ":" { portPart = after.dropFirst() } else if !after.isEmpty {
        throw ACMEError(.invalidInput, "'\(url)': junk after ']'")
      }
    } else if let colon = authority.lastIndex(of: ":") {
      hostPart = authority[..<colon]
      portPart = authority[authority.index(after: colon)...]
    } else {
      hostPart = authority
    }
    guard !hostPart.isEmpty else { throw ACMEError(.invalidInput, "'\(url)' has no host") }
    host = hostPart.lowercased()
    if let portPart {
      guard let number = Int(portPart), (1...65535).contains(number) else {
        throw ACMEError(.invalidInput, "'\(url)': bad port '\(portPart)'")
      }
      port = number
    } else {
      port = secure ? 443 : 80
    }
  }

  /// `reference` (a Location or Link target) made absolute against this endpoint.
  func resolve(_ reference: String) -> String {
    let lowered = reference.lowercased()
    if lowered.hasPrefix("https://") || lowered.hasPrefix("http://") { return reference }
    let origin = "\(secure ? "https" : "http")://\(hostField)"
    if reference.hasPrefix("//") { return "\(secure ? "https" : "http"):\(reference)" }
    if reference.hasPrefix("/") { return origin + reference }
    let directory = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
    let base = directory.lastIndex(of: "/").map { String(directory[...$0]) } ?? "/"
    return origin + base + reference
  }
}
