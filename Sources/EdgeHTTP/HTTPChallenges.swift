import Dispatch
import EdgeCore

/// HTTP-01 answers (RFC 8555 §8.3): the key authorization for each token the ACME agent has a pending
/// challenge for. Any plain-HTTP request for `/.well-known/acme-challenge/<token>` whose token is here is
/// answered with it, whatever its Host and before any site's routes, as Caddy does; other paths under
/// that prefix go through the routes as usual. Shared by every worker; the agent writes from any thread.
public final class HTTPChallenges: Sendable {
  private let tokens = Locked<[String: String]>([:])
  /// Where answers put up by other processes sharing this node's storage (or cluster) are found. It may
  /// block (a file read, a Redis round trip), so it runs on `lookups`, never on a loop.
  private let shared = Locked<(@Sendable (String) -> String?)?>(nil)
  private let lookups = DispatchQueue(label: "edge.acme.http-01", attributes: .concurrent)

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

  /// What to do with a request for `path` (without query).
  public enum Lookup: Equatable, Sendable {
    /// This process put the token up: answer with the key authorization.
    case answer(String)
    /// A well-formed token this process does not have: ask shared storage (`askShared`).
    case askShared(token: String)
    /// Not a pending challenge: route the request as usual.
    case none
  }

  public func lookup(forPath path: String) -> Lookup {
    guard path.hasPrefix(Self.prefix) else { return .none }
    let token = path.dropFirst(Self.prefix.count)
    guard !token.isEmpty, !token.contains("/") else { return .none }
    if let local = tokens.withLock({ $0.isEmpty ? nil : $0[String(token)] }) { return .answer(local) }
    // Tokens are base64url: anything else is not looked up anywhere.
    guard token.utf8.allSatisfy({ $0 == 45 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
    else { return .none }
    return shared.withLock({ $0 }) == nil ? .none : .askShared(token: String(token))
  }

  /// Looks `token` up in shared storage off the loop; `done` gets the key authorization or nil, on a
  /// dispatch queue.
  public func askShared(_ token: String, _ done: @escaping @Sendable (String?) -> Void) {
    guard let lookup = shared.withLock({ $0 }) else { return done(nil) }
    lookups.async { done(lookup(token)) }
  }

  /// The key authorization for the token in `path`, looking in shared storage on the calling thread
  /// (tests and tools; connections use `lookup` and `askShared`).
  public func answer(forPath path: String) -> String? {
    switch lookup(forPath: path) {
    case .answer(let answer): answer
    case .askShared(let token): shared.withLock { $0 }?(token)
    case .none: nil
    }
  }

  public static let prefix = "/.well-known/acme-challenge/"
}
