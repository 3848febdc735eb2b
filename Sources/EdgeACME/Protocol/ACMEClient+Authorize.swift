/// A pending authorization and how it will be answered.
private struct PlannedChallenge {
  let authorizationURL: String
  let name: String
  let challenge: ACMEChallenge
  let token: String
  let keyAuthorization: String
  let solver: any ACMEChallengeSolver
}

extension ACMEClient {
  /// Proves control for every pending authorization of an order: present all challenges, then ask the
  /// CA to validate each, then wait for each; `cleanUp` runs for everything presented, whatever happened.
  func authorize(_ authorizationURLs: [String], solvers: [any ACMEChallengeSolver]) async throws {
    var plan: [PlannedChallenge] = []
    for url in authorizationURLs {
      let response = try await withContext("fetching authorization \(url)") { try await post(url, payload: nil) }
      let authorization = try decode(ACMEAuthorization.self, response, "authorization \(url)")
      switch authorization.status {
      case "valid":
        continue  // the CA reused an earlier proof
      case "pending":
        plan.append(try choose(authorization, url: url, solvers: solvers))
      default:
        throw ACMEError(
          .validationFailed, "authorization for \(authorization.orderedName) is \(authorization.status)",
          problem: authorization.failure)
      }
    }

    var presented: [PlannedChallenge] = []
    var failure: (any Error)? = nil
    do {
      for item in plan {
        do {
          try await item.solver.present(identifier: item.name, token: item.token, keyAuthorization: item.keyAuthorization)
        } catch let error as CancellationError {
          throw error
        } catch {
          throw ACMEError(.solver, "\(error)").adding("presenting \(item.challenge.type) for \(item.name)")
        }
        presented.append(item)
      }
      for item in presented where item.challenge.status == "pending" {
        _ = try await withContext("answering \(item.challenge.type) for \(item.name)") {
          try await post(item.challenge.url, payload: Array("{}".utf8))
        }
      }
      for item in presented { try await waitForValid(item) }
    } catch {
      failure = error
    }
    for item in presented {
      await item.solver.cleanUp(identifier: item.name, token: item.token, keyAuthorization: item.keyAuthorization)
    }
    if let failure { throw failure }
  }

  /// The first solver (in preference order) whose challenge type the CA offers for this authorization.
  private func choose(_ authorization: ACMEAuthorization, url: String, solvers: [any ACMEChallengeSolver]) throws
    -> PlannedChallenge
  {
    for solver in solvers {
      guard let challenge = authorization.challenges.first(where: { $0.type == solver.challengeType }) else { continue }
      guard let token = challenge.token, !token.isEmpty else {
        throw ACMEError(.protocolViolation, "\(challenge.type) challenge \(challenge.url) has no token")
      }
      return PlannedChallenge(
        authorizationURL: url, name: authorization.orderedName, challenge: challenge, token: token,
        keyAuthorization: ACMEKeyAuthorization.make(token: token, accountKey: accountKey), solver: solver)
    }
    let offered = authorization.challenges.map(\.type).joined(separator: ", ")
    let handled = solvers.map(\.challengeType).joined(separator: ", ")
    throw ACMEError(
      .noSolver, "\(authorization.orderedName): the CA offers [\(offered)], the solvers handle [\(handled)]")
  }

  private func waitForValid(_ item: PlannedChallenge) async throws {
    let authorization = try await withContext("validating \(item.challenge.type) for \(item.name)") {
      try await poll(item.authorizationURL, timeout: options.authorizationTimeout) { (authorization: ACMEAuthorization) in
        authorization.status != "pending"
      }
    }
    guard authorization.status == "valid" else {
      let problem = authorization.failure
      let reason = problem.map { ": \($0)" } ?? ""
      throw ACMEError(.validationFailed, "authorization is \(authorization.status)\(reason)", problem: problem)
        .adding("validating \(item.challenge.type) for \(item.name)")
    }
  }
}
