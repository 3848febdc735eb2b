import EdgeCore

/// HTTP-01 answers (RFC 8555 §8.3): the key authorization for each token the ACME agent has a pending
/// challenge for. Any plain-HTTP request for `/.well-known/acme-challenge/<token>` whose token is here is
/// answered with it, whatever its Host and before any site's routes, as Caddy does; other paths under
/// that prefix go through the routes as usual. Shared by every worker; the agent writes from any thread.
public final class HTTPChallenges: Sendable {
  private let tokens = Locked<[String: String]>([:])

  public init() {}

  public func present(token: String, keyAuthorization: String) {
    tokens.withLock { $0[token] = keyAuthorization }
  }

  public func remove(token: String) {
    _ = tokens.withLock { $0.removeValue(forKey: token) }
  }

  /// The key authorization for the token in `path` (a request path without query), if one is pending.
  public func answer(forPath path: String) -> String? {
    guard path.hasPrefix(Self.prefix) else { return nil }
    let token = path.dropFirst(Self.prefix.count)
    guard !token.isEmpty, !token.contains("/") else { return nil }
    return tokens.withLock { $0.isEmpty ? nil : $0[String(token)] }
  }

  public static let prefix = "/.well-known/acme-challenge/"
}
