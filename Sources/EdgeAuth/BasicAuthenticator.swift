internal import COpenSSL
import Dispatch
import EdgeCore
import Foundation

/// HTTP Basic authentication against bcrypt hashes (`basic_auth`), shared by every worker.
///
/// bcrypt is slow on purpose, so a check that needs it runs on a small pool (one thread per core at
/// most), never on an event loop. A successful check is remembered (by a SHA-256 of user, password and
/// hash, never the password) so a browser sending the same credentials on every request pays once.
public final class BasicAuthenticator: Sendable {
  public enum Verdict: Sendable {
    case granted(user: String)
    /// No credentials, or malformed ones: answer 401 without hashing anything.
    case denied
    /// Well-formed credentials not seen before: `verify` decides.
    case needsCheck(Credentials)
  }

  public struct Credentials: Sendable {
    public let user: String
    let password: String
    let key: [UInt8]
  }

  /// The `WWW-Authenticate` value of a 401.
  public let challenge: String
  private let hashes: [String: String]
  /// Checked for unknown users, so a name that does not exist costs as much as a wrong password.
  private let decoy: String
  private let granted = Locked<Set<[UInt8]>>([])
  static let cacheLimit = 1000

  public init(accounts: [(user: String, hash: String)], realm: String?) {
    var hashes: [String: String] = [:]
    for account in accounts { hashes[account.user] = account.hash }
    self.hashes = hashes
    let escaped = (realm ?? "restricted").replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    challenge = "Basic realm=\"\(escaped)\", charset=\"UTF-8\""
    // Same algorithm and cost as a real account; the 53 characters of salt and digest never match.
    let setting = accounts.first.map { String($0.hash.prefix(7)) } ?? "$2b$10$"
    decoy = setting + String(repeating: "O", count: 53)
  }

  /// What the `Authorization` field decides without bcrypt.
  public func verdict(authorization: String?) -> Verdict {
    guard let authorization, let (user, password) = Self.parse(authorization) else { return .denied }
    let hash = hashes[user] ?? decoy
    let key = Self.cacheKey(user: user, password: password, hash: hash)
    if granted.withLock({ $0.contains(key) }) { return .granted(user: user) }
    return .needsCheck(Credentials(user: user, password: password, key: key))
  }

  /// Checks `credentials` on the hashing pool and calls `completion` there with the result.
  public func verify(_ credentials: Credentials, completion: @escaping @Sendable (Bool) -> Void) {
    Self.pool.addOperation { [self] in
      let ok = hashes[credentials.user].map { PasswordHash.verify(password: credentials.password, hash: $0) }
        ?? { _ = PasswordHash.verify(password: credentials.password, hash: decoy); return false }()
      if ok {
        granted.withLock { cache in
          // Bounded: past the limit an arbitrary entry goes (it costs one more bcrypt later).
          if cache.count >= Self.cacheLimit, let any = cache.first { cache.remove(any) }
          cache.insert(credentials.key)
        }
      }
      completion(ok)
    }
  }

  /// At most one bcrypt per core at a time: a flood of wrong passwords queues here, the loops go on.
  static let pool: OperationQueue = {
    let queue = OperationQueue()
    queue.name = "edge.basic-auth"
    queue.maxConcurrentOperationCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
    return queue
  }()

  /// `Basic <base64(user:password)>` → its parts; the scheme is case-insensitive (RFC 9110 §11.1).
  static func parse(_ field: String) -> (String, String)? {
    let parts = field.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
    guard parts.count == 2, parts[0].lowercased() == "basic",
      let data = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)),
      let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
    else { return nil }
    return (String(text[..<colon]), String(text[text.index(after: colon)...]))
  }

  static func cacheKey(user: String, password: String, hash: String) -> [UInt8] {
    var input = Array(user.utf8)
    input.append(0)
    input += password.utf8
    input.append(0)
    input += hash.utf8
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    _ = EVP_Digest(input, input.count, &digest, &length, sha256, nil)
    return Array(digest.prefix(Int(length)))
  }

  /// SHA-256 fetched once: `EVP_sha256()` makes OpenSSL 3 look the implementation up at every digest.
  nonisolated(unsafe) static let sha256: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)
}
