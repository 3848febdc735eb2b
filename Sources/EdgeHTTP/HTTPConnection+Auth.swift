import EdgeAuth
import EdgeConfig
import EdgeHTTP1

extension HTTPConnection {
  /// `basic_auth`: each gate on the request's way must accept its `Authorization`. Credentials seen
  /// before pass at once; new ones are hashed off the loop while the connection waits (reading stops once
  /// a head's worth of pipelined bytes is queued), then the request goes on, or gets 401.
  func authenticate(_ resolution: RouteResolution, head: RequestHead, originalTarget: String, from index: Int = 0) {
    let authorization = head.headers["Authorization"]
    for (position, authenticator) in resolution.authenticators.enumerated().dropFirst(index) {
      // A browser sends the same credentials on every request of a keep-alive connection: the ones this
      // gate accepted last on this connection pass without decoding or hashing anything.
      if let authorization, let last = grantedOnConnection, last.gate === authenticator, last.authorization == authorization {
        continue
      }
      switch authenticator.verdict(authorization: authorization) {
      case .granted:
        if let authorization { grantedOnConnection = (authenticator, authorization) }
        continue
      case .denied:
        return refuse(authenticator, head: head, fields: resolution.responseFields)
      case .needsCheck(let credentials):
        phase = .authenticating
        let loop = self.loop
        // The connection is kept until the answer comes back (one bcrypt, about a second at most).
        authenticator.verify(credentials) { ok in
          loop.execute {
            self.assumeIsolated { connection in
              guard connection.phase == .authenticating else { return }  // closed meanwhile
              connection.phase = .readingHead
              if ok {
                if let authorization { connection.grantedOnConnection = (authenticator, authorization) }
                connection.authenticate(resolution, head: head, originalTarget: originalTarget, from: position + 1)
              } else {
                connection.worker.logger.info(
                  "basic_auth: credentials refused",
                  metadata: ["remote": "\(connection.remoteIP)", "user": "\(credentials.user)"])
                connection.refuse(authenticator, head: head, fields: resolution.responseFields)
              }
              // Answered here, outside the parsing loop: go on with requests pipelined behind this one.
              if connection.phase == .idle { connection.parseRequests() }
            }
          }
        }
        return
      }
    }
    dispatch(resolution, head: head, originalTarget: originalTarget)
  }

  /// 401 with the gate's challenge (through `handle_errors` when the site has it).
  func refuse(_ authenticator: BasicAuthenticator, head: RequestHead, fields: [HeaderOperation]) {
    let challenge = HeaderOperation(kind: .set, name: "WWW-Authenticate", value: authenticator.challenge)
    fail(status: 401, "", head: head, fields: fields + [challenge])
  }

  /// An HTTP-01 token this process did not put up: storage shared with other processes or nodes may have
  /// it. The lookup runs off the loop (it may be a Redis round trip) while the connection waits, as for a
  /// password check; without an answer the request is routed as usual.
  func askSharedChallenge(_ token: String, head: RequestHead) {
    phase = .authenticating
    let loop = self.loop
    worker.challenges.askShared(token) { answer in
      loop.execute {
        self.assumeIsolated { connection in
          guard connection.phase == .authenticating else { return }  // closed meanwhile
          connection.phase = .readingHead
          if let answer {
            connection.worker.logger.info(
              "answered an ACME HTTP-01 validation put up by another node or process",
              metadata: ["host": "\(head.host ?? "-")", "remote": "\(connection.remoteIP)"])
            connection.respondLocally(status: 200, body: Array(answer.utf8), request: head, close: false)
          } else {
            connection.route(head, challengeChecked: true)
          }
          if connection.phase == .idle { connection.parseRequests() }
        }
      }
    }
  }
}
