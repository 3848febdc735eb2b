import Foundation
import Testing

@testable import EdgeACME

@Suite("client behaviour against a scripted CA (no network)")
struct ClientTests {
  @Test("429 and 503 with Retry-After surface as rateLimited with the wait, and are not retried", arguments: [
    (429, #"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many new accounts"}"#, "120"),
    (503, "", "Sun, 06 Nov 2094 08:49:37 GMT"),
  ])
  func rateLimited(_ status: Int, _ body: String, _ retryAfter: String) async throws {
    let ca = ScriptedCA { request in
      guard request.method == "POST" else { return nil }
      return ACMEHTTPResponse(status: status, headers: ["Retry-After": retryAfter], body: Array(body.utf8))
    }
    let error = await #expect(throws: ACMEError.self) { _ = try await ca.client().account() }
    #expect(error?.kind == .rateLimited)
    #expect(error?.httpStatus == status)
    #expect((error?.retryAfter ?? .zero) > .seconds(100))
    #expect(error?.description.hasPrefix("looking up the account at https://ca.test/dir: ") == true)
    #expect(ca.posts == 1)
  }

  @Test("badNonce is retried with the nonce from each refusal, then given up with the CA's problem")
  func badNonceGivesUp() async throws {
    let ca = ScriptedCA { request in
      guard request.method == "POST" else { return nil }
      return ACMEHTTPResponse(
        status: 400, headers: ["Replay-Nonce": "n-\(UUID().uuidString)"],
        body: Array(#"{"type":"urn:ietf:params:acme:error:badNonce","detail":"JWS has an invalid anti-replay nonce"}"#.utf8))
    }
    var options = ACMEClient.Options()
    options.maximumBadNonceRetries = 3
    let error = await #expect(throws: ACMEError.self) { _ = try await ca.client(options: options).account() }
    #expect(error?.problem?.isACMEError("badNonce") == true)
    #expect(ca.posts == 4)
    #expect(Set(ca.postedNonces).count == 4)
    #expect(ca.heads == 1)  // one newNonce; the rest came from Replay-Nonce
  }

  @Test("a problem document's subproblems, identifiers and status are kept")
  func subproblems() async throws {
    let problem = #"""
      {"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"some names are refused","status":400,
       "subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"blocked",
                       "identifier":{"type":"dns","value":"bad.test"}}]}
      """#
    let ca = ScriptedCA { request in
      if request.url.hasSuffix("/new-account") {
        return ACMEHTTPResponse(status: 201, headers: ["Location": "/acct/1", "Replay-Nonce": "x"], body: Array("{}".utf8))
      }
      guard request.url.hasSuffix("/new-order") else { return nil }
      return ACMEHTTPResponse(status: 400, headers: ["Content-Type": "application/problem+json"], body: Array(problem.utf8))
    }
    let client = try ca.client()
    #expect(try await client.account() == "https://ca.test/acct/1")  // relative Location resolved
    let error = await #expect(throws: ACMEError.self) {
      _ = try await client.obtain(names: ["ok.test", "bad.test"], csrDER: [], solvers: [])
    }
    let found = try #require(error?.problem)
    #expect(found.isACMEError("rejectedIdentifier") && found.status == 400)
    #expect(found.subproblems.first?.identifier == ACMEIdentifier(type: "dns", value: "bad.test"))
    #expect(error?.description.contains("[bad.test] urn:ietf:params:acme:error:rejectedIdentifier: blocked") == true)
  }
}

/// A fake CA: a directory and nonces, and `handler` for everything else (nil: 404).
final class ScriptedCA: ACMETransport, @unchecked Sendable {
  // Invariant: `log` only under `lock`.
  private let handler: @Sendable (ACMEHTTPRequest) -> ACMEHTTPResponse?
  private let lock = NSLock()
  private var log: [ACMEHTTPRequest] = []

  init(_ handler: @escaping @Sendable (ACMEHTTPRequest) -> ACMEHTTPResponse?) { self.handler = handler }

  func client(options: ACMEClient.Options = .init()) throws -> ACMEClient {
    ACMEClient(directoryURL: "https://ca.test/dir", transport: self, accountKey: try .generate(), options: options)
  }

  var posts: Int { lock.withLock { log.filter { $0.method == "POST" }.count } }
  var heads: Int { lock.withLock { log.filter { $0.method == "HEAD" }.count } }

  /// The `nonce` of every POSTed JWS, in order.
  var postedNonces: [String] {
    lock.withLock { log.filter { $0.method == "POST" } }.compactMap { request in
      guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: String],
        let header = body["protected"].flatMap(Base64URL.decode),
        let fields = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any]
      else { return nil }
      return fields["nonce"] as? String
    }
  }

  func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse {
    lock.withLock { log.append(request) }
    if request.url == "https://ca.test/dir" {
      let directory = #"""
        {"newNonce":"https://ca.test/new-nonce","newAccount":"https://ca.test/new-account",
         "newOrder":"https://ca.test/new-order","revokeCert":"https://ca.test/revoke"}
        """#
      return ACMEHTTPResponse(status: 200, body: Array(directory.utf8))
    }
    if request.method == "HEAD" { return ACMEHTTPResponse(status: 200, headers: ["Replay-Nonce": "first"]) }
    return handler(request) ?? ACMEHTTPResponse(status: 404)
  }
}
