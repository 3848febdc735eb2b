extension LocalCAStorage {
  var intermediateCertificatePath: String { directory.file("intermediate.crt") }
  var intermediateKeyPath: String { directory.file("intermediate.key") }

  /// The intermediate on disk, or a new one when it is missing, due for renewal (less than a third of
  /// its life left) or when its two files do not belong together — the trace of a crash between the two
  /// renames of a renewal; no client trusts an intermediate directly, so replacing it is safe. A file
  /// that does not parse, or an intermediate another root signed, is an error naming the file.
  func loadOrIssueIntermediate(root: CAKeyPair, now: Int) throws(LocalCAError) -> CAKeyPair {
    let stored: CAKeyPair.Stored
    do { stored = try CAKeyPair.read(certificate: intermediateCertificatePath, key: intermediateKeyPath) } catch {
      throw LocalCAError("loading intermediate", error)
    }
    guard case .loaded(let intermediate) = stored else { return try issueIntermediate(root: root, now: now) }
    guard intermediate.certificate.isSigned(by: root.key) else {
      throw LocalCAError("loading intermediate", CAFileError("checking", intermediateCertificatePath, reason: "not signed by \(rootCertificatePath); remove both intermediate files to have a new one issued"))
    }
    if Self.isDue(intermediate.certificate, now: now) { return try issueIntermediate(root: root, now: now) }
    return intermediate
  }

  /// Whether less than a third of `certificate`'s validity is left (or it is not valid yet, as when
  /// the clock went back).
  static func isDue(_ certificate: X509Certificate, now: Int) -> Bool {
    let life = certificate.notAfter - certificate.notBefore
    return now < certificate.notBefore || certificate.notAfter - now < life / 3
  }

  /// A new intermediate signed by `root` (never outliving it), stored.
  private func issueIntermediate(root: CAKeyPair, now: Int) throws(LocalCAError) -> CAKeyPair {
    let step = "renewing intermediate"
    let intermediate: CAKeyPair
    do throws(OpenSSLError) {
      let key = try PrivateKey.generateP256()
      let profile = CertificateProfile(
        role: .authority(pathLength: 0), commonName: "\(name) - ECC Intermediate", organization: name,
        notBefore: now - 60,
        notAfter: min(now + Int(lifetimes.intermediate.components.seconds), root.certificate.notAfter))
      let certificate = try X509Certificate.sign(profile, subjectKey: key, issuer: root.certificate, issuerKey: root.key)
      intermediate = CAKeyPair(certificate: certificate, key: key, certificatePEM: try certificate.pem())
    } catch {
      throw LocalCAError(step, error)
    }
    try intermediate.write(certificate: intermediateCertificatePath, key: intermediateKeyPath, step: step)
    return intermediate
  }
}
