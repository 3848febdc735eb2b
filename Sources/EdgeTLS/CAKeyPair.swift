/// A CA certificate with its private key, checked to belong together. Lives inside `LocalCA`'s lock.
final class CAKeyPair {
  let certificate: X509Certificate
  let key: PrivateKey
  /// `certificate` as PEM, kept so chains are not re-encoded per leaf.
  let certificatePEM: String

  init(certificate: X509Certificate, key: PrivateKey, certificatePEM: String) {
    self.certificate = certificate
    self.key = key
    self.certificatePEM = certificatePEM
  }

  /// What was found on disk for one `<name>.crt` + `<name>.key` pair.
  enum Stored {
    case absent
    /// One of the two files exists; `missing` is the path of the other.
    case incomplete(missing: String)
    /// Both parse, but the key is not the certificate's.
    case mismatched
    case loaded(CAKeyPair)
  }

  /// Reads and parses a pair. A file that exists but does not parse is an error naming it.
  static func read(certificate certificatePath: String, key keyPath: String) throws(CAFileError) -> Stored {
    let certificateText = try AtomicFile.read(certificatePath)
    let keyText = try AtomicFile.read(keyPath)
    guard let certificateText, let keyText else {
      switch (certificateText, keyText) {
      case (nil, nil): return .absent
      case (nil, _): return .incomplete(missing: certificatePath)
      default: return .incomplete(missing: keyPath)
      }
    }
    let certificate: X509Certificate
    do { certificate = try X509Certificate(pem: certificateText) } catch {
      throw CAFileError("reading", certificatePath, reason: "not a PEM certificate (\(error))")
    }
    let key: PrivateKey
    do { key = try PrivateKey(pem: keyText) } catch {
      throw CAFileError("reading", keyPath, reason: "not an unencrypted PEM private key (\(error))")
    }
    guard key.matches(certificate) else { return .mismatched }
    return .loaded(CAKeyPair(certificate: certificate, key: key, certificatePEM: certificateText))
  }

  /// Writes the pair, key (0600) first, then certificate (0644), each atomically.
  /// Errors carry `step` (what the CA was doing).
  func write(certificate certificatePath: String, key keyPath: String, step: String) throws(LocalCAError) {
    let keyPEM: String
    do { keyPEM = try key.pem() } catch { throw LocalCAError(step, error) }
    do throws(CAFileError) {
      try AtomicFile.write(keyPEM, to: keyPath, mode: 0o600)
      try AtomicFile.write(certificatePEM, to: certificatePath, mode: 0o644)
    } catch {
      throw LocalCAError(step, error)
    }
  }
}
