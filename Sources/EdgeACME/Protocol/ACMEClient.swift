import Foundation

/// An RFC 8555 client for one account at one CA. All network I/O happens in the transport (its own
/// threads); this actor only keeps protocol state: the directory, a nonce pool, the account URL.
///
/// Errors are `ACMEError`s; a CA's refusal carries its problem document, and 429 / 503 carry the
/// Retry-After wait instead of sleeping on it (the caller decides when to come back).
public actor ACMEClient {
  public struct Options: Sendable {
    /// How long one authorization may take to become valid once its challenge was answered.
    public var authorizationTimeout: Duration = .seconds(90)
    /// How long finalization may take (order `processing` → `valid`).
    public var orderTimeout: Duration = .seconds(90)
    /// How often a request refused with `badNonce` is signed again with a fresh nonce (15: even a CA
    /// refusing half of all nonces fails a request once in 65,536).
    public var maximumBadNonceRetries = 15
    /// First wait between polls; doubled each time up to `maximumPollInterval`, unless the CA's
    /// Retry-After asks for longer.
    public var initialPollInterval: Duration = .milliseconds(200)
    public var maximumPollInterval: Duration = .seconds(5)

    public init() {}
  }

  public nonisolated let directoryURL: String
  public nonisolated let accountKey: ACMEAccountKey
  /// `mailto:` URLs sent at account creation.
  public nonisolated let contact: [String]
  nonisolated let transport: any ACMETransport
  nonisolated let externalAccountBinding: ACMEExternalAccountBinding?
  nonisolated let options: Options

  var cachedDirectory: ACMEDirectory?
  var nonces: [String] = []
  /// The account (the JWS `kid`), once `account()` found or created it, or as the caller stored it.
  public internal(set) var accountURL: String?

  /// - Parameters:
  ///   - contact: e-mail addresses (`mailto:` is added when missing).
  ///   - accountURL: the account's URL from an earlier `account()`, to skip the lookup.
  public init(
    directoryURL: String, transport: any ACMETransport, accountKey: ACMEAccountKey, contact: [String] = [],
    externalAccountBinding: ACMEExternalAccountBinding? = nil, accountURL: String? = nil, options: Options = Options()
  ) {
    self.directoryURL = directoryURL
    self.transport = transport
    self.accountKey = accountKey
    self.contact = contact.map { $0.hasPrefix("mailto:") ? $0 : "mailto:\($0)" }
    self.externalAccountBinding = externalAccountBinding
    self.accountURL = accountURL
    self.options = options
  }

  /// The CA's directory, fetched once.
  public func directory() async throws -> ACMEDirectory {
    if let cachedDirectory { return cachedDirectory }
    let response = try await withContext("fetching directory \(directoryURL)") {
      try await unsigned(ACMEHTTPRequest(method: "GET", url: directoryURL))
    }
    let directory = try decode(ACMEDirectory.self, response, "directory \(directoryURL)")
    cachedDirectory = directory
    return directory
  }

  /// A nonce from the pool, or a fresh one from newNonce (RFC 8555 §7.2).
  func nextNonce() async throws -> String {
    if let nonce = nonces.popLast() { return nonce }
    let url = try await directory().newNonce
    let response = try await withContext("fetching a nonce") {
      try await unsigned(ACMEHTTPRequest(method: "HEAD", url: url))
    }
    if let nonce = nonces.popLast() { return nonce }  // `unsigned` pooled the Replay-Nonce
    throw ACMEError(.protocolViolation, "newNonce answered without Replay-Nonce", httpStatus: response.status)
  }

  /// Keeps the response's Replay-Nonce (every ACME response may carry one, RFC 8555 §6.5).
  func keepNonce(_ response: ACMEHTTPResponse) {
    guard let nonce = response.headers["Replay-Nonce"], !nonce.isEmpty else { return }
    nonces.append(nonce)
    if nonces.count > 32 { nonces.removeFirst(nonces.count - 32) }
  }

  nonisolated func decode<Value: Decodable>(_ type: Value.Type, _ response: ACMEHTTPResponse, _ what: String)
    throws -> Value
  {
    do {
      return try JSONDecoder().decode(type, from: Data(response.body))
    } catch {
      throw ACMEError(.protocolViolation, "decoding \(what): \(error)", httpStatus: response.status)
    }
  }
}
