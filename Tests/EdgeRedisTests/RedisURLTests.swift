import Foundation
import Testing

@testable import EdgeRedis

@Suite("RedisURL")
struct RedisURLTests {
  @Test(
    "accepted forms",
    arguments: [
      ("redis://localhost", RedisURL(host: "localhost")),
      ("redis://10.0.0.5:6380", RedisURL(host: "10.0.0.5", port: 6380)),
      ("redis://:s3cret@cache:7000/2", RedisURL(host: "cache", port: 7000, password: "s3cret", database: 2)),
      ("redis://edge:pw@cache/", RedisURL(host: "cache", user: "edge", password: "pw")),
      ("redis://edge@cache", RedisURL(host: "cache", user: "edge")),
      ("redis://:p%40ss%2Fw@cache", RedisURL(host: "cache", password: "p@ss/w")),
      ("redis://:a@b@cache:1/15", RedisURL(host: "cache", port: 1, password: "a@b", database: 15)),
      ("redis://[::1]:6390/3", RedisURL(host: "::1", port: 6390, database: 3)),
      ("redis://[fe80::1]", RedisURL(host: "fe80::1")),
      ("rediss://u:p@secure.example:6380", RedisURL(host: "secure.example", port: 6380, user: "u", password: "p", tls: true)),
      (
        "rediss://:pw@10.0.0.7:6380/1?ca=/etc/edge/ca.pem&sni=redis.internal",
        RedisURL(
          host: "10.0.0.7", port: 6380, password: "pw", database: 1, tls: true,
          tlsOptions: .init(caFile: "/etc/edge/ca.pem", serverName: "redis.internal"))
      ),
      (
        "rediss://cache?cert=/c.pem&key=/k%20ey.pem&insecure=1",
        RedisURL(
          host: "cache", tls: true,
          tlsOptions: .init(certificateFile: "/c.pem", keyFile: "/k ey.pem", insecureSkipVerify: true))
      ),
      ("rediss://cache?cert=/both.pem&insecure=0", RedisURL(host: "cache", tls: true, tlsOptions: .init(certificateFile: "/both.pem"))),
      ("rediss://[::1]:7000?ca=/a%26b%3F.pem", RedisURL(host: "::1", port: 7000, tls: true, tlsOptions: .init(caFile: "/a&b?.pem"))),
    ])
  func parses(_ text: String, _ expected: RedisURL) throws {
    #expect(try RedisURL(parsing: text) == expected)
  }

  @Test(
    "rejected forms",
    arguments: [
      "http://cache", "cache:6379", "redis://", "redis://:pw@", "redis://cache:0", "redis://cache:65536",
      "redis://cache:port", "redis://cache/db", "redis://cache/-1", "redis://[::1", "redis://[::1]x",
      "redis://cache?timeout=1", "redis://:%zz@cache",
      // TLS options: only on rediss://, each once, with a value; key= needs cert=.
      "redis://cache?ca=/ca.pem", "rediss://cache?timeout=1", "rediss://cache?ca", "rediss://cache?ca=",
      "rediss://cache?ca=/a&ca=/b", "rediss://cache?key=/k.pem", "rediss://cache?insecure=yes",
      "rediss://cache?ca=/a#x", "rediss://cache?ca=%zz", "rediss://cache?&ca=/a", "rediss://cache?",
    ])
  func rejects(_ text: String) {
    #expect(throws: RedisError.self) { try RedisURL(parsing: text) }
  }

  @Test("a description with TLS options parses back to the same URL, and names insecure=1")
  func describesTLSOptions() throws {
    let text = "rediss://u:pw@cache:6380/2?ca=/a%26b.pem&cert=/c.pem&key=/k.pem&sni=redis.internal&insecure=1"
    let url = try RedisURL(parsing: text)
    #expect(url.description == "rediss://u:***@cache:6380/2?ca=/a%26b.pem&cert=/c.pem&key=/k.pem&sni=redis.internal&insecure=1")
    #expect(try RedisURL(parsing: url.description.replacingOccurrences(of: "***", with: "pw")) == url)
    #expect(try RedisURL(parsing: "rediss://cache").description == "rediss://cache:6379")
  }

  @Test("errors and descriptions never show the password")
  func redacts() throws {
    let url = try RedisURL(parsing: "redis://edge:hunter2@cache:7000/1")
    #expect(url.description == "redis://edge:***@cache:7000/1")
    do {
      _ = try RedisURL(parsing: "redis://edge:hunter2@cache:nope")
      Issue.record("parsed a bad port")
    } catch {
      #expect(error.code == .invalidURL)
      #expect(!error.message.contains("hunter2"))
    }
  }
}

@Suite("Backoff")
struct BackoffTests {
  @Test("100 ms doubling to 5 s, each delay within the upper half of its step, reset after success")
  func doubling() {
    var backoff = Backoff()
    var random = SystemRandomNumberGenerator()
    let steps: [UInt64] = [100, 200, 400, 800, 1600, 3200, 5000, 5000]
    for step in steps {
      let delay = backoff.nextDelay(using: &random)
      #expect(delay >= step / 2 && delay <= step, "step \(step) gave \(delay)")
    }
    backoff.reset()
    let first = backoff.nextDelay(using: &random)
    #expect(first >= 50 && first <= 100)
  }
}
