/// How edge speaks TLS as a client: to Redis (`rediss://`) and to HTTPS upstreams. Each field's
/// comment gives its meaning and default; the defaults verify the server like a browser would.
public struct TLSClientConfiguration: Sendable, Hashable {
  /// A PEM file of the CA certificates to trust *instead of* the system's roots (a private CA, as
  /// `redis-cli --cacert` takes it). Default nil: OpenSSL's default store (`/etc/ssl/certs` on Debian).
  public var trustedCAFile: String?
  /// More PEM files of CA certificates, trusted with `trustedCAFile`, also instead of the system's roots
  /// (HTTPS upstreams' `tls_trusted_ca_certs`). Default none.
  public var moreTrustedCAFiles: [String]
  /// A PEM file with the client certificate (leaf first, then any intermediates), for servers that ask
  /// for one (mutual TLS). Default nil: no client certificate.
  public var certificateFile: String?
  /// The PEM private key of `certificateFile`, unencrypted. Default nil: the key is read from
  /// `certificateFile` itself (one file holding both).
  public var privateKeyFile: String?
  /// Accepts any server certificate, whoever signed it and whatever name it carries. Anyone on the path
  /// can then read and change the traffic: for tests and for a first look at a broken setup only, and
  /// worth a warning in the log wherever it is turned on. Default false.
  public var insecureSkipVerify: Bool
  /// The oldest protocol version offered. Default TLS 1.2 (older versions are never offered).
  public var minVersion: TLSVersion
  /// ALPN protocols to offer, in preference order (`["h2", "http/1.1"]`). Default none: no ALPN.
  public var applicationProtocols: [String]

  public init(
    trustedCAFile: String? = nil, certificateFile: String? = nil, privateKeyFile: String? = nil,
    insecureSkipVerify: Bool = false, minVersion: TLSVersion = .tls12, applicationProtocols: [String] = [],
    moreTrustedCAFiles: [String] = []
  ) {
    self.trustedCAFile = trustedCAFile
    self.moreTrustedCAFiles = moreTrustedCAFiles
    self.certificateFile = certificateFile
    self.privateKeyFile = privateKeyFile
    self.insecureSkipVerify = insecureSkipVerify
    self.minVersion = minVersion
    self.applicationProtocols = applicationProtocols
  }
}
