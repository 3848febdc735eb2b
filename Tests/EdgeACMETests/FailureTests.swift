import Foundation
import Testing

@testable import EdgeACME

@Suite("failures surface the CA's reasons")
struct FailureTests {
  @Test("a wrong key authorization: validationFailed carrying pebble's unauthorized problem; cleanUp still runs")
  func invalidChallenge() async throws {
    try await withPebble { pebble in
      let solver = try HTTP01Solver.listening(on: pebble.httpPort, wrongAnswer: true)
      defer { solver.server.stop() }
      let names = ["wrong.test"]
      let error = await #expect(throws: ACMEError.self) {
        _ = try await pebble.client().obtain(
          names: names, csrDER: try CertificateKey.generateP256().csr(names: names), solvers: [solver])
      }
      let failure = try #require(error)
      #expect(failure.kind == .validationFailed)
      #expect(failure.problem?.isACMEError("unauthorized") == true, "\(failure)")
      #expect(failure.problem?.detail?.isEmpty == false)
      #expect(failure.description.hasPrefix("obtaining [wrong.test]: validating http-01 for wrong.test: "), "\(failure)")
      #expect(solver.log.all == ["present wrong.test", "cleanUp wrong.test"])
    }
  }

  @Test("no solver for what the CA offers: noSolver, before anything is presented")
  func noSolver() async throws {
    try await withPebble { pebble in
      let solver = try HTTP01Solver.listening(on: pebble.httpPort)
      defer { solver.server.stop() }
      let names = ["*.nosolver.test"]  // wildcards offer only dns-01
      let error = await #expect(throws: ACMEError.self) {
        _ = try await pebble.client().obtain(
          names: names, csrDER: try CertificateKey.generateP256().csr(names: names), solvers: [solver])
      }
      #expect(error?.kind == .noSolver)
      #expect(error?.description.contains("[dns-01]") == true, "\(String(describing: error))")
      #expect(solver.log.all.isEmpty)
    }
  }

  @Test("a solver whose present throws: .solver error, and what was presented before is cleaned up")
  func solverThrows() async throws {
    try await withPebble { pebble in
      let solver = SecondPresentFails()
      let names = ["a.fail.test", "b.fail.test"]
      let error = await #expect(throws: ACMEError.self) {
        _ = try await pebble.client().obtain(
          names: names, csrDER: try CertificateKey.generateP256().csr(names: names), solvers: [solver])
      }
      #expect(error?.kind == .solver)
      #expect(error?.description.contains("provider down") == true)
      let log = solver.log.all
      #expect(log.count == 2 && log[0].hasPrefix("present ") && log[1] == log[0].replacingOccurrences(of: "present", with: "cleanUp"))
    }
  }
}

/// Presents the first challenge, fails on the second.
private struct SecondPresentFails: ACMEChallengeSolver {
  let challengeType = "http-01"
  let log = SolverLog()
  struct Down: Error, CustomStringConvertible { var description: String { "provider down" } }
  func present(identifier: String, token: String, keyAuthorization: String) async throws {
    if log.all.contains(where: { $0.hasPrefix("present") }) { throw Down() }
    log.add("present \(identifier)")
  }
  func cleanUp(identifier: String, token: String, keyAuthorization: String) async { log.add("cleanUp \(identifier)") }
}
