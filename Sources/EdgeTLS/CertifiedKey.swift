internal import COpenSSL
import EdgeCore

/// A certificate chain and its private key, parsed once and shared by every handshake that serves it.
///
/// Made from PEM text: the chain PEM holds the leaf first, then intermediates; the key PEM holds an EC
/// (P-256) or RSA private key. Handing it to a connection costs reference-count increments only.
public final class CertifiedKey: Sendable {
  /// The leaf's DNS and IP subject alternative names, lower-cased, in certificate order.
  public let names: [String]
  /// The leaf's notAfter, in seconds since the Unix epoch.
  public let notAfter: Int

  /// The leaf certificate (one reference owned).
  nonisolated(unsafe) let leaf: OpaquePointer
  /// The intermediates, as a STACK_OF(X509) owning one reference to each element.
  nonisolated(unsafe) let chain: OpaquePointer
  /// The private key (one reference owned).
  nonisolated(unsafe) let privateKey: OpaquePointer
  // Invariant: the three OpenSSL objects are never modified after init (OpenSSL's reference counts are
  // atomic), so sharing them across threads is safe; they are freed once, in deinit.

  /// The DER OCSPResponse stapled to handshakes whose client asks for one, or nil. The only mutable
  /// state: replaced by whoever fetches responses, read by the handshakes serving this key.
  private let ocspSlot = Locked<[UInt8]?>(nil)

  /// Parses `chainPEM` (leaf first, then intermediates) and `keyPEM`, and checks that they belong together.
  public convenience init(chainPEM: String, keyPEM: String) throws(CertificateError) {
    let chainBIO = Self.memoryBIO(chainPEM)
    let keyBIO = Self.memoryBIO(keyPEM)
    defer {
      BIO_free(chainBIO)
      BIO_free(keyBIO)
    }
    try self.init(chainBIO: chainBIO, keyBIO: keyBIO, source: nil)
  }

  /// A memory BIO holding a copy of `text`.
  private static func memoryBIO(_ text: String) -> OpaquePointer? {
    let bio = BIO_new(BIO_s_mem())
    var text = text
    text.withUTF8 { _ = BIO_write(bio, $0.baseAddress, Int32($0.count)) }
    return bio
  }

  /// Reads a chain PEM file and a key PEM file (see `init(chainPEM:keyPEM:)`).
  public convenience init(certificateFile: String, keyFile: String) throws(CertificateError) {
    guard let chainBIO = BIO_new_file(certificateFile, "r") else {
      throw CertificateError(.unreadable(OpenSSLError("open").description), source: certificateFile)
    }
    defer { BIO_free(chainBIO) }
    guard let keyBIO = BIO_new_file(keyFile, "r") else {
      throw CertificateError(.unreadable(OpenSSLError("open").description), source: keyFile)
    }
    defer { BIO_free(keyBIO) }
    try self.init(chainBIO: chainBIO, keyBIO: keyBIO, source: certificateFile)
  }

  private init(chainBIO: OpaquePointer?, keyBIO: OpaquePointer?, source: String?) throws(CertificateError) {
    ERR_clear_error()
    let parsed = try Self.readChain(chainBIO, source: source)
    guard let key = PEM_read_bio_PrivateKey(keyBIO, nil, refusePassphrase, nil) else {
      Self.free(leaf: parsed.leaf, chain: parsed.chain)
      _ = OpenSSLError.drainQueue()
      throw CertificateError(.noPrivateKey, source: source)
    }
    let keyType = EVP_PKEY_get_base_id(key)
    guard keyType == EVP_PKEY_EC || keyType == EVP_PKEY_RSA else {
      EVP_PKEY_free(key)
      Self.free(leaf: parsed.leaf, chain: parsed.chain)
      throw CertificateError(.unsupportedKeyType, source: source)
    }
    guard X509_check_private_key(parsed.leaf, key) == 1 else {
      _ = OpenSSLError.drainQueue()
      EVP_PKEY_free(key)
      Self.free(leaf: parsed.leaf, chain: parsed.chain)
      throw CertificateError(.keyMismatch, source: source)
    }
    leaf = parsed.leaf
    chain = parsed.chain
    privateKey = key
    names = Self.subjectAlternativeNames(of: parsed.leaf)
    notAfter = Self.notAfter(of: parsed.leaf)
  }

  /// Staples `der` (a DER OCSPResponse, RFC 6960) to every later handshake that serves this certificate
  /// to a client asking for certificate status (RFC 6066 §8); nil or empty stops stapling. Pass only a
  /// verified, current, `good` response: clients refuse connections that staple a bad one.
  public func setOCSPResponse(_ der: [UInt8]?) {
    let value = der?.isEmpty == false ? der : nil
    ocspSlot.withLock { $0 = value }
  }

  /// The response to staple now, if any (a reference-count increment under the lock; no copy).
  var ocspResponse: [UInt8]? { ocspSlot.withLock { $0 } }

  deinit {
    EVP_PKEY_free(privateKey)
    Self.free(leaf: leaf, chain: chain)
  }

  /// Reads every certificate in `bio`: the first is the leaf, the rest go into a new stack.
  private static func readChain(_ bio: OpaquePointer?, source: String?) throws(CertificateError)
    -> (leaf: OpaquePointer, chain: OpaquePointer)
  {
    guard let leaf = PEM_read_bio_X509(bio, nil, nil, nil) else {
      _ = OpenSSLError.drainQueue()
      throw CertificateError(.noCertificate, source: source)
    }
    let chain = OPENSSL_sk_new_null()!
    while let next = PEM_read_bio_X509(bio, nil, nil, nil) {
      OPENSSL_sk_push(chain, UnsafeRawPointer(next))
    }
    // The loop ends at "no start line" when the text is used up; anything else is a broken PEM block.
    let last = ERR_peek_last_error()
    if last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE {
      let detail = OpenSSLError("PEM_read_bio_X509").description
      free(leaf: leaf, chain: chain)
      throw CertificateError(.malformed(detail), source: source)
    }
    ERR_clear_error()
    return (leaf, chain)
  }

  private static func free(leaf: OpaquePointer, chain: OpaquePointer) {
    X509_free(leaf)
    while OPENSSL_sk_num(chain) > 0 {
      X509_free(OpaquePointer(OPENSSL_sk_pop(chain)))
    }
    OPENSSL_sk_free(chain)
  }
}
