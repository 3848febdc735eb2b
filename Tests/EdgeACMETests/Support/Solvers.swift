import EdgeACME
import Foundation

/// Records what solvers were asked to do, for assertions.
final class SolverLog: @unchecked Sendable {
  // Invariant: `entries` only under `lock`.
  private let lock = NSLock()
  private var entries: [String] = []

  func add(_ entry: String) { lock.withLock { entries.append(entry) } }
  var all: [String] { lock.withLock { entries } }
}

/// HTTP-01: serves key authorizations at /.well-known/acme-challenge/<token> on pebble's httpPort.
/// `wrongAnswer` serves a broken key authorization instead.
struct HTTP01Solver: ACMEChallengeSolver {
  let challengeType = "http-01"
  let server: TestHTTPServer
  let answers: Answers
  var wrongAnswer = false
  var log = SolverLog()

  final class Answers: @unchecked Sendable {
    // Invariant: `byPath` only under `lock`.
    private let lock = NSLock()
    private var byPath: [String: String] = [:]
    subscript(path: String) -> String? {
      get { lock.withLock { byPath[path] } }
      set { lock.withLock { byPath[path] = newValue } }
    }
  }

  /// Starts the server on `port`.
  static func listening(on port: Int, wrongAnswer: Bool = false) throws -> HTTP01Solver {
    let answers = Answers()
    let server = try TestHTTPServer(port: port) { request in
      guard request.method == "GET", let answer = answers[request.path] else { return .text("not here", status: 404) }
      return .text(answer)
    }
    return HTTP01Solver(server: server, answers: answers, wrongAnswer: wrongAnswer)
  }

  func present(identifier: String, token: String, keyAuthorization: String) async throws {
    answers[ACMEKeyAuthorization.http01Path(token: token)] = wrongAnswer ? "\(token).not-the-thumbprint" : keyAuthorization
    log.add("present \(identifier)")
  }

  func cleanUp(identifier: String, token: String, keyAuthorization: String) async {
    answers[ACMEKeyAuthorization.http01Path(token: token)] = nil
    log.add("cleanUp \(identifier)")
  }
}

/// DNS-01 through pebble-challtestsrv's management API.
struct DNS01Solver: ACMEChallengeSolver {
  let challengeType = "dns-01"
  let pebble: Pebble
  var log = SolverLog()

  func present(identifier: String, token: String, keyAuthorization: String) async throws {
    let host = ACMEKeyAuthorization.dns01RecordName(for: identifier) + "."
    try await pebble.challengeServer("set-txt", ["host": host, "value": ACMEKeyAuthorization.dns01Value(keyAuthorization)])
    log.add("present \(identifier)")
  }

  func cleanUp(identifier: String, token: String, keyAuthorization: String) async {
    let host = ACMEKeyAuthorization.dns01RecordName(for: identifier) + "."
    try? await pebble.challengeServer("clear-txt", ["host": host])
    log.add("cleanUp \(identifier)")
  }
}

/// Claims a challenge type and does nothing (for pebble with PEBBLE_VA_ALWAYS_VALID=1).
struct NoOpSolver: ACMEChallengeSolver {
  var challengeType = "http-01"
  func present(identifier: String, token: String, keyAuthorization: String) async throws {}
  func cleanUp(identifier: String, token: String, keyAuthorization: String) async {}
}
