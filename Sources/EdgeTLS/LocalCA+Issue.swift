extension LocalCA {
  /// A leaf certificate for `names` with a fresh P-256 key: IP literals become IP SANs, other names DNS
  /// SANs, the first name is the CN. Valid from a minute ago (clock skew) for `lifetime`, never past
  /// the intermediate. Renews the intermediate first when it is due.
  ///
  /// - Returns: `chainPEM` (leaf, then intermediate), `keyPEM` (PKCS#8) and `notAfter` (Unix seconds).
  public func issue(for names: [String], lifetime: Duration = .seconds(12 * 3600))
    throws(LocalCAError) -> (chainPEM: String, keyPEM: String, notAfter: Int)
  {
    let step = "issuing for \(names.joined(separator: ", "))"
    guard let first = names.first else { throw LocalCAError("issuing", InvalidSiteNameError(name: "")) }
    var alternativeNames: [SubjectAlternativeName] = []
    for name in names {
      guard let parsed = SubjectAlternativeName(name) else { throw LocalCAError(step, InvalidSiteNameError(name: name)) }
      if !alternativeNames.contains(parsed) { alternativeNames.append(parsed) }
    }
    let seconds = Int(lifetime.components.seconds)
    guard seconds > 0 else { throw LocalCAError(step, InvalidLifetimeError(lifetime: lifetime)) }

    return try state.withLock { state throws(LocalCAError) in
      let time = now()
      try renewIntermediateIfDue(&state, now: time)
      let intermediate = state.intermediate
      do throws(OpenSSLError) {
        let key = try PrivateKey.generateP256()
        let notAfter = min(time + seconds, intermediate.certificate.notAfter)
        let profile = CertificateProfile(
          role: .server,
          // An X.509 CN holds at most 64 characters; a longer name lives in the SAN only.
          commonName: first.utf8.count <= 64 ? first : nil,
          organization: nil, notBefore: time - 60, notAfter: notAfter, names: alternativeNames)
        let leaf = try X509Certificate.sign(
          profile, subjectKey: key, issuer: intermediate.certificate, issuerKey: intermediate.key)
        return (try leaf.pem() + intermediate.certificatePEM, try key.pem(), notAfter)
      } catch {
        throw LocalCAError(step, error)
      }
    }
  }
}

/// A leaf lifetime of zero or less.
struct InvalidLifetimeError: Error, Sendable, CustomStringConvertible {
  let lifetime: Duration
  var description: String { "lifetime \(lifetime) is not positive" }
}
