#if canImport(Glibc)
  import Glibc
#endif
import EdgeCore

/// edge's own certificate authority (Caddy's `tls internal`): a root and an intermediate kept in a
/// storage directory, and short-lived leaf certificates for site names issued on demand.
///
/// On disk (directory mode 0700, keys 0600, every write atomic):
///
///     root.crt  root.key                    created once, valid 10 years; never replaced by edge
///     intermediate.crt  intermediate.key    valid 7 days, renewed when less than a third is left
///     .lock                                 flock'd while files are created or renewed
///
/// Thread-safe: the current intermediate sits behind a lock; issuing takes it for about a millisecond
/// (one P-256 key and one signature).
public final class LocalCA: Sendable {
  /// How long the CA certificates live.
  public struct Lifetimes: Sendable {
    /// The root's validity (default 10 years). Only used when the root is created.
    public var root: Duration
    /// The intermediate's validity (default 7 days); renewed when less than a third is left.
    public var intermediate: Duration

    public init(root: Duration = .seconds(10 * 365 * 86400), intermediate: Duration = .seconds(7 * 86400)) {
      self.root = root
      self.intermediate = intermediate
    }
  }

  /// The storage directory.
  public let directory: String
  /// The root certificate, PEM: what `edge trust` installs and clients are told to trust.
  public let rootPEM: String
  /// SHA-256 of the root certificate, `AB:CD:…` (as `openssl x509 -fingerprint -sha256` prints it).
  public let rootFingerprintSHA256: String

  let storage: LocalCAStorage
  let now: @Sendable () -> Int
  let state: Locked<State>

  /// The CA certificates in use. Only touched under `state`'s lock.
  struct State {
    let root: CAKeyPair
    var intermediate: CAKeyPair
  }

  /// Loads the CA from `directory`, creating the directory, root and intermediate when missing and
  /// renewing the intermediate when due. `now` (Unix seconds) is injectable for tests.
  public init(
    directory: String, name: String = "edge Local Authority", lifetimes: Lifetimes = Lifetimes(),
    now: @escaping @Sendable () -> Int = { Int(time(nil)) }
  ) throws(LocalCAError) {
    let folder: CADirectory
    do { folder = try CADirectory.prepare(directory) } catch { throw LocalCAError("preparing storage", error) }
    let storage = LocalCAStorage(directory: folder, name: name, lifetimes: lifetimes)
    let (root, intermediate) = try folder.locked { () throws(LocalCAError) in
      let time = now()
      let root = try storage.loadOrCreateRoot(now: time)
      return (root, try storage.loadOrIssueIntermediate(root: root, now: time))
    }
    do { rootFingerprintSHA256 = try root.certificate.fingerprintSHA256() } catch {
      throw LocalCAError("loading root", error)
    }
    self.directory = directory
    self.rootPEM = root.certificatePEM
    self.storage = storage
    self.now = now
    self.state = Locked(State(root: root, intermediate: intermediate))
  }

  /// The intermediate certificate now in use, PEM (the second half of every chain).
  public var intermediatePEM: String { state.withLock { $0.intermediate.certificatePEM } }

  /// Renews the intermediate if it is due: under the directory lock, re-reading the files first, since
  /// another process sharing the directory may have renewed it already.
  func renewIntermediateIfDue(_ state: inout State, now time: Int) throws(LocalCAError) {
    guard LocalCAStorage.isDue(state.intermediate.certificate, now: time) else { return }
    let root = state.root
    state.intermediate = try storage.directory.locked { () throws(LocalCAError) in
      try storage.loadOrIssueIntermediate(root: root, now: time)
    }
  }
}
