import EdgeCore

/// HTTP-01 answers (RFC 8555 §8.3): the key authorization for each token the ACME agent has a pending
/// challenge for. Any plain-HTTP request for `/.well-known/acme-challenge/<token>` whose token is here is
/// answered with it, whatever its Host and before any site's routes, as Caddy does; other paths under
/// that prefix go through the routes as usual. Shared by every worker; the agent writes from any thread.
public final class HTTPChallenges: Sendable {
  private let tokens = Locked<[String: String]>([:])
  /// Where answers put up by other processes sharing this node's storage are found (a file read, on the
  /// loop: only for a request for an unknown token under the challenge prefix, which is rare).
  private let shared = Locked<(@Sendable (String) -> String?)?>(nil)

  public init() {}

  /// Answers from shared storage for tokens this process did not put up.
  public func useShared(_ lookup: @escaping @Sendable (String) -> String?) {
    shared.withLock { $0 = lookup }
  }

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
    if let local = tokens.withLock({ $0.isEmpty ? nil : $0[String(token)] }) { return local }
    // Tokens are base64url: anything else is not looked up anywhere.
    guard token.utf8.allSatisfy({ $0 == 45 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
    else { return nil }
    return shared.withLock { $0 }?(String(token))
  }

  public static let prefix = "/.well-known/acme-challenge/"
}
