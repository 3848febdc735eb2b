import EdgeCaddyfile
import Foundation

/// `basic_auth [<matcher>] [<hash_algorithm> [<realm>]] { <username> <hashed_password> … }` (also the
/// older spelling `basicauth`). Only bcrypt: Caddy's other algorithm (argon2id) is refused by name.
enum BasicAuthDirective {
  static func parse(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let directive = d.token
    let location = SourceLocation(directive)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    let args = d.remainingArgTokens()
    if let algorithm = args.first, algorithm.text != "bcrypt" {
      if algorithm.text == "argon2id" || algorithm.text == "scrypt" {
        throw ConfigError("basic_auth hash algorithm '\(algorithm.text)' is not supported yet; use bcrypt", at: algorithm)
      }
      throw ConfigError(
        "unknown basic_auth hash algorithm '\(algorithm.text)'\(DirectiveCatalog.suggestion(for: algorithm.text, among: ["bcrypt"])); "
          + "use bcrypt", at: algorithm)
    }
    if args.count > 2 { throw ConfigError("unexpected '\(args[2].text)': basic_auth takes an algorithm and a realm", at: args[2]) }
    let realm = args.count == 2 ? args[1].text : nil
    var accounts: [BasicAuth.Account] = []
    let level = d.nesting
    while d.nextBlock(level) {
      let user = d.token
      let rest = d.remainingArgTokens()
      guard rest.count == 1 else {
        throw ConfigError(
          rest.isEmpty
            ? "basic_auth account '\(user.text)' has no password hash; write '\(user.text) <hash>' (make one with 'edge hash-password')"
            : "unexpected '\(rest[1].text)' after the hash of '\(user.text)'", at: rest.isEmpty ? user : rest[1])
      }
      guard let hash = PasswordHashForm.normalized(rest[0].text) else {
        throw ConfigError(
          "the password of '\(user.text)' must be a bcrypt hash, not the password itself; make one with 'edge hash-password'",
          at: rest[0])
      }
      if accounts.contains(where: { $0.username == user.text }) {
        throw ConfigError("basic_auth account '\(user.text)' is listed twice", at: user)
      }
      accounts.append(BasicAuth.Account(username: user.text, hash: hash))
    }
    if accounts.isEmpty {
      throw ConfigError("basic_auth needs a block of accounts: basic_auth { <username> <hash> }", at: directive)
    }
    return Route(matcher: matcher, handler: .basicAuth(BasicAuth(accounts: accounts, realm: realm)), location: location)
  }
}

/// The written forms of a bcrypt hash (the config checks them; `EdgeAuth` does the hashing).
enum PasswordHashForm {
  /// A `$2…$` hash as written, or the base64 of one decoded; nil otherwise.
  static func normalized(_ written: String) -> String? {
    if isBcrypt(written) { return written }
    guard let data = Data(base64Encoded: written), let decoded = String(data: data, encoding: .utf8), isBcrypt(decoded)
    else { return nil }
    return decoded
  }

  /// `$2a$NN$` (or 2b, 2y; cost 4–31) and 53 characters of bcrypt's base64.
  static func isBcrypt(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
      [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
      bytes[6] == UInt8(ascii: "$"), let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)), (4...31).contains(cost)
    else { return false }
    let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    return bytes[7...].allSatisfy(alphabet.contains)
  }
}
