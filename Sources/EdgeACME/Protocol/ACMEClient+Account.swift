/// What the CA says about an account (RFC 8555 §7.1.2); only the status matters here.
private struct AccountBody: Decodable {
  let status: String?
}

extension ACMEClient {
  /// The account URL for `accountKey`: the existing account when the CA knows the key (looked up with
  /// `onlyReturnExisting`, so EAB credentials are only spent on creation), else a new one with
  /// `termsOfServiceAgreed` and, when configured, External Account Binding.
  public func account() async throws -> String {
    if let accountURL { return accountURL }
    let found = try await withContext("looking up the account at \(directoryURL)") { try await existingAccount() }
    if let found { return adopt(found) }
    let created = try await withContext("creating an account at \(directoryURL)") { try await newAccount() }
    return adopt(created)
  }

  /// Keeps the first URL learnt (another task may have finished `account()` meanwhile; same key, same URL).
  private func adopt(_ url: String) -> String {
    if let accountURL { return accountURL }
    accountURL = url
    return url
  }

  private func existingAccount() async throws -> String? {
    let url = try await directory().newAccount
    let response: ACMEHTTPResponse
    do {
      response = try await post(url, NewAccountPayload(onlyReturnExisting: true), signature: .key(accountKey))
    } catch let error as ACMEError where error.problem?.isACMEError("accountDoesNotExist") == true {
      return nil
    }
    try requireValid(response)
    return try location(response, of: url, "newAccount")
  }

  private func newAccount() async throws -> String {
    let directory = try await directory()
    var payload = NewAccountPayload(contact: contact.isEmpty ? nil : contact, termsOfServiceAgreed: true)
    if let externalAccountBinding {
      payload.externalAccountBinding = try JWS.externalAccountBinding(
        externalAccountBinding, accountKey: accountKey, url: directory.newAccount)
    }
    let response = try await post(directory.newAccount, payload, signature: .key(accountKey))
    try requireValid(response)
    return try location(response, of: directory.newAccount, "newAccount")
  }

  private func requireValid(_ response: ACMEHTTPResponse) throws {
    let status = (try? decode(AccountBody.self, response, "account"))?.status ?? "valid"
    guard status == "valid" else { throw ACMEError(.server, "the account is \(status)", httpStatus: response.status) }
  }
}
