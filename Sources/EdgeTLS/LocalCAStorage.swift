#if canImport(Glibc)
  import Glibc
#endif

/// Loads, creates and renews the CA's files in its directory:
/// `root.crt`/`root.key` (created once, never replaced) and `intermediate.crt`/`intermediate.key`
/// (renewed). Callers hold the directory lock around every method.
struct LocalCAStorage: Sendable {
  let directory: CADirectory
  let name: String
  let lifetimes: LocalCA.Lifetimes

  var rootCertificatePath: String { directory.file("root.crt") }
  var rootKeyPath: String { directory.file("root.key") }

  /// The root on disk, or a new one when neither root file exists. Anything else that is wrong with
  /// the root files is an error naming the file: replacing a root breaks every client that trusts it.
  func loadOrCreateRoot(now: Int) throws(LocalCAError) -> CAKeyPair {
    let stored: CAKeyPair.Stored
    do { stored = try CAKeyPair.read(certificate: rootCertificatePath, key: rootKeyPath) } catch {
      throw LocalCAError("loading root", error)
    }
    switch stored {
    case .absent:
      return try createRoot(now: now)
    case .incomplete(let missing):
      throw LocalCAError("loading root", CAFileError("reading", missing, reason: "missing, but its partner exists; restore it, or remove both root files to create a new root (clients must then trust the new one)"))
    case .mismatched:
      throw LocalCAError("loading root", CAFileError("checking", rootKeyPath, reason: "not the key of \(rootCertificatePath)"))
    case .loaded(let root):
      let certificate = root.certificate
      guard certificate.isCA, certificate.isSigned(by: root.key) else {
        throw LocalCAError("loading root", CAFileError("checking", rootCertificatePath, reason: "not a self-signed CA certificate"))
      }
      guard certificate.notAfter > now else {
        throw LocalCAError("loading root", CAFileError("checking", rootCertificatePath, reason: "expired; remove both root files to create a new root (clients must then trust the new one)"))
      }
      return root
    }
  }

  /// A new self-signed root, stored. If the certificate cannot be written, the key is removed again so
  /// the next start does not find half a root.
  private func createRoot(now: Int) throws(LocalCAError) -> CAKeyPair {
    let step = "creating root"
    let root: CAKeyPair
    do throws(OpenSSLError) {
      let key = try PrivateKey.generateP256()
      let profile = CertificateProfile(
        role: .authority(pathLength: 1), commonName: "\(name) - \(Self.year(of: now)) ECC Root", organization: name,
        notBefore: now - 60, notAfter: now + Int(lifetimes.root.components.seconds))
      let certificate = try X509Certificate.sign(profile, subjectKey: key, issuer: nil, issuerKey: key)
      root = CAKeyPair(certificate: certificate, key: key, certificatePEM: try certificate.pem())
    } catch {
      throw LocalCAError(step, error)
    }
    do {
      try root.write(certificate: rootCertificatePath, key: rootKeyPath, step: step)
    } catch {
      AtomicFile.remove(rootCertificatePath)
      AtomicFile.remove(rootKeyPath)
      throw error
    }
    return root
  }

  /// The UTC year of a Unix time, for the root's name (as Caddy's "… - 2026 ECC Root").
  private static func year(of unixTime: Int) -> Int {
    var seconds = time_t(unixTime)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return Int(parts.tm_year) + 1900
  }
}
