import EdgeConfig
import EdgeRegex
import Foundation
import EdgeHTTP1
import EdgeTLS

/// What a named matcher looks at besides the path.
public struct MatchRequest {
  public let head: RequestHead
  public let secure: Bool
  /// The peer's address (`remote_ip`).
  public let remoteIP: String
  /// The client's: the peer's, or what a trusted proxy forwarded (`client_ip`).
  public let clientIP: String
  /// Inside `handle_errors`: the error answered.
  let error: RequestError?
  public init(head: RequestHead, secure: Bool, remoteIP: String, clientIP: String? = nil) {
    self.init(head: head, secure: secure, remoteIP: remoteIP, clientIP: clientIP, error: nil)
  }
  init(head: RequestHead, secure: Bool, remoteIP: String, clientIP: String?, error: RequestError?) {
    self.head = head
    self.secure = secure
    self.remoteIP = remoteIP
    self.clientIP = clientIP ?? remoteIP
    self.error = error
  }

  /// What placeholders mean for this request, with `head` in place of the request's own.
  func placeholders(_ head: RequestHead? = nil, captures: RegexCaptures) -> PlaceholderContext {
    PlaceholderContext(
      request: head ?? self.head, scheme: secure ? "https" : "http", remoteIP: remoteIP, error: error, captures: captures,
      clientIP: clientIP)
  }
}

/// A named matcher, compiled: every condition that is set must hold (see `RequestMatcher`).
public final class CompiledMatcher: Sendable {
  let paths: [PathPattern]?
  let hosts: [String]?
  let methods: Set<String>?
  let headers: [(name: String, values: [String])]?
  let query: [(key: String, values: [String])]?
  let protocols: Set<String>?
  let clientIPs: [IPRange]?
  let remoteIPs: [IPRange]?
  let not: [CompiledMatcher]
  let pathRegexps: [(name: String, regex: CompiledRegex)]?
  let headerRegexps: [(name: String, field: String, regex: CompiledRegex)]?

  init(_ matcher: RequestMatcher) {
    paths = matcher.paths.isEmpty ? nil : matcher.paths.map(PathPattern.init)
    hosts = matcher.hosts
    methods = matcher.methods.map(Set.init)
    headers = matcher.headers.map { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    query = matcher.query.map { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    protocols = matcher.protocols.map(Set.init)
    // Validation has checked the ranges; one that does not parse matches nothing.
    clientIPs = matcher.clientIPs.map { $0.compactMap(IPRange.init) }
    remoteIPs = matcher.remoteIPs.map { $0.compactMap(IPRange.init) }
    not = (matcher.not ?? []).map(CompiledMatcher.init)
    // Validation has compiled every pattern; one that fails here matches nothing.
    pathRegexps = matcher.pathRegexps.map { $0.map { ($0.name, (try? CompiledRegex($0.pattern)) ?? .never) } }
    headerRegexps = matcher.headerRegexps.map {
      $0.map { ($0.name, $0.field ?? "", (try? CompiledRegex($0.pattern)) ?? .never) }
    }
  }

  /// Whether the request matches; the matches of its regexps go into `captures` when it does.
  func matches(path: UnsafeRawBufferPointer, _ request: MatchRequest, captures: inout RegexCaptures) -> Bool {
    guard matches(path: path, request) else { return false }
    if pathRegexps == nil && headerRegexps == nil { return true }
    var found: [RegexCaptures.Entry] = []
    if let pathRegexps {
      // Already decoded and cleaned (`MatchPath`).
      let decoded = String(decoding: path, as: UTF8.self)
      for (name, regex) in pathRegexps {
        guard let match = regex.firstMatch(decoded) else { return false }
        found.append(RegexCaptures.Entry(name: name, match: match, regex: regex))
      }
    }
    for (name, field, regex) in headerRegexps ?? [] {
      guard let match = request.head.headers.values(field).lazy.compactMap(regex.firstMatch).first else { return false }
      found.append(RegexCaptures.Entry(name: name, match: match, regex: regex))
    }
    captures.entries += found
    return true
  }

  func matches(path: UnsafeRawBufferPointer, _ request: MatchRequest) -> Bool {
    if let paths, !paths.contains(where: { $0.matches(path) }) { return false }
    let head = request.head
    if let methods, !methods.contains(head.method) { return false }
    if let protocols, !protocols.contains(request.secure ? "https" : "http") { return false }
    if let hosts {
      let host = head.host.map(ListenerRoutes.hostOnly) ?? ""
      guard hosts.contains(where: { Self.host(host, matches: $0) }) else { return false }
    }
    if let headers {
      for (name, wanted) in headers {
        let present = head.headers.values(name)
        if present.isEmpty { return false }
        if !wanted.isEmpty && !present.contains(where: { value in wanted.contains { Self.value(value, matches: $0) } }) {
          return false
        }
      }
    }
    if let query {
      let pairs = Self.queryPairs(head.path)
      for (key, wanted) in query {
        let values = pairs.filter { $0.key == key }.map(\.value)
        if values.isEmpty || !values.contains(where: { value in wanted.contains { $0 == "*" || $0 == value } }) {
          return false
        }
      }
    }
    if let clientIPs, !clientIPs.contains(where: { $0.contains(request.clientIP) }) { return false }
    if let remoteIPs, !remoteIPs.contains(where: { $0.contains(request.remoteIP) }) { return false }
    for negated in not {
      var ignored = RegexCaptures()
      if negated.matches(path: path, request, captures: &ignored) { return false }
    }
    return true
  }

  /// An exact name, or a `*.` wildcard covering exactly the host's first label.
  static func host(_ host: String, matches pattern: String) -> Bool {
    pattern.hasPrefix("*.") ? WildcardName.covering(host) == pattern : host == pattern
  }

  /// `value` against `pattern`: exact, `prefix*`, `*suffix`, `*contains*`, or `*`.
  static func value(_ value: String, matches pattern: String) -> Bool {
    if pattern == "*" { return true }
    let starts = pattern.hasPrefix("*")
    let ends = pattern.hasSuffix("*") && pattern.count > 1
    switch (starts, ends) {
    case (true, true): return value.contains(pattern.dropFirst().dropLast())
    case (true, false): return value.hasSuffix(pattern.dropFirst())
    case (false, true): return value.hasPrefix(pattern.dropLast())
    case (false, false): return value == pattern
    }
  }

  /// `a=1&b=2` of a target, percent-decoded (`+` as a space).
  static func queryPairs(_ target: String) -> [(key: String, value: String)] {
    guard let query = OriginTarget.split(target).query else { return [] }
    return query.split(separator: "&").map { pair in
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
      }
      return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
    }
  }
}

/// The regexp matches of the matchers that matched a request, read by `{re.<name>.<group>}`: kept as
/// matched and looked up when a placeholder asks, so matching builds no strings or tables.
public struct RegexCaptures: Sendable {
  struct Entry: Sendable {
    let name: String
    let match: RegexMatch
    let regex: CompiledRegex
  }
  var entries: [Entry] = []

  public init() {}

  /// `name.1` or `name.group`: the group of the last match under that name; nil when none.
  subscript(key: Substring) -> String? {
    guard let dot = key.firstIndex(of: ".") else { return nil }
    let name = key[..<dot]
    let group = key[key.index(after: dot)...]
    for entry in entries.reversed() where entry.name == name {
      if let index = Int(group) { return index < entry.match.groups.count ? entry.match.groups[index] : nil }
      guard let index = entry.regex.groupNames.firstIndex(where: { $0.map { $0[...] == group } ?? false }) else { return nil }
      return entry.match.groups[index]
    }
    return nil
  }
}
