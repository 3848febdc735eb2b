import Foundation

extension ACMEClient {
  /// Who signs a request: the account (`kid`) unless told otherwise.
  enum Signature {
    case account
    case key(ACMEAccountKey)
  }

  /// A JWS-signed POST (RFC 8555 §6.2). `payload` nil is POST-as-GET. A `badNonce` refusal is retried
  /// with a fresh nonce up to `maximumBadNonceRetries` times; other refusals become `ACMEError`s.
  func post(_ url: String, payload: [UInt8]?, signature: Signature = .account, accept: String? = nil)
    async throws -> ACMEHTTPResponse
  {
    let signer: JWS.Signer
    switch signature {
    case .account:
      let account: String
      if let accountURL { account = accountURL } else { account = try await self.account() }
      signer = .kid(account, accountKey)
    case .key(let key):
      signer = .jwk(key)
    }
    var attempt = 0
    while true {
      let body = try JWS.sign(payload: payload, url: url, nonce: try await nextNonce(), signer: signer)
      var request = ACMEHTTPRequest(method: "POST", url: url, headers: ["Content-Type": "application/jose+json"], body: body)
      if let accept { request.headers.add("Accept", accept) }
      do {
        return try await unsigned(request)
      } catch let error as ACMEError where error.problem?.isACMEError("badNonce") == true {
        attempt += 1
        if attempt > options.maximumBadNonceRetries { throw error.adding("\(attempt) nonces refused") }
      }
    }
  }

  func post<Payload: Encodable>(_ url: String, _ payload: Payload, signature: Signature = .account) async throws
    -> ACMEHTTPResponse
  {
    try await post(url, payload: try JWS.encode(payload), signature: signature)
  }

  /// Sends `request` as is, pools its Replay-Nonce, and turns an error status into an `ACMEError` with
  /// the problem document and Retry-After.
  func unsigned(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse {
    let response: ACMEHTTPResponse
    do {
      response = try await transport.send(request)
    } catch let error as ACMEError {
      throw error
    } catch let error as CancellationError {
      throw error
    } catch {
      throw ACMEError(.transport, "\(request.method) \(request.url): \(error)")
    }
    keepNonce(response)
    guard response.status >= 400 else { return response }
    let problem = try? JSONDecoder().decode(ACMEProblem.self, from: Data(response.body))
    let retryAfter = RetryAfter.parse(response.headers["Retry-After"])
    let limited = response.status == 429 || problem?.isACMEError("rateLimited") == true
      || (response.status == 503 && retryAfter != nil)
    let reason = problem?.description ?? "HTTP \(response.status)"
    throw ACMEError(
      limited ? .rateLimited : .server, "\(request.url) answered \(response.status): \(reason)", problem: problem,
      httpStatus: response.status, retryAfter: retryAfter)
  }

  /// The Location header a creating request to `url` must answer with, made absolute.
  nonisolated func location(_ response: ACMEHTTPResponse, of url: String, _ what: String) throws -> String {
    guard let location = response.headers["Location"], !location.isEmpty else {
      throw ACMEError(.protocolViolation, "\(what) answered without Location", httpStatus: response.status)
    }
    return try HTTPEndpoint(url).resolve(location)
  }
}
