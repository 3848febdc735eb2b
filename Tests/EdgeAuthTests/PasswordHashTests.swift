import EdgeAuth
import Foundation
import Testing

@Suite struct PasswordHashTests {
  /// From `htpasswd -nbB -C 5 alice secret` style hashing, made here once with cost 5 so tests run fast.
  @Test func hashAndVerify() throws {
    let hash = try #require(PasswordHash.bcrypt("correct horse", cost: 5))
    #expect(hash.hasPrefix("$2b$05$"))
    #expect(hash.count == 60)
    #expect(PasswordHash.verify(password: "correct horse", hash: hash))
    #expect(!PasswordHash.verify(password: "correct hors", hash: hash))
    #expect(!PasswordHash.verify(password: "", hash: hash))
    // A fresh salt each time.
    #expect(PasswordHash.bcrypt("correct horse", cost: 5) != hash)
  }

  @Test func knownVectorFromOpenBSD() {
    // The classic test vector ("U*U", cost 5) from the OpenBSD/crypt_blowfish suite.
    #expect(PasswordHash.verify(password: "U*U", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"))
    #expect(!PasswordHash.verify(password: "U*V", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"))
  }

  @Test func malformedHashesNeverVerify() {
    #expect(!PasswordHash.verify(password: "x", hash: "not a hash"))
    #expect(!PasswordHash.verify(password: "x", hash: ""))
    #expect(!PasswordHash.verify(password: "a\u{0}b", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"))
  }
}
