import EdgeACME
import EdgeCluster
import EdgeCore
import Dispatch
import EdgeConfig
import EdgeHTTP
import EdgeStorage
import EdgeTLS
import Foundation
import Logging

/// The certificates of one node: the cache every TLS listener serves from, where a name missing from it
/// comes from, and the upkeep (renewing local-CA leaves, rotating ticket keys).
///
/// Which source a configured name uses, as Caddy decides it:
///
///     tls cert.pem key.pem                    the files, loaded at start
///     tls internal, local_certs, or a name    the local CA, a leaf issued at the first handshake
///       that never gets a public certificate
///       (localhost, *.localhost, IPs, .local, .internal, .home.arpa)
///     any other name                          storage: <storage>/certificates/<name>.crt + .key
///                                             (ACME will put them there)
///
/// A name no site has is answered with nothing (the client gets unrecognized_name): a handshake never
/// makes edge read a file or issue a certificate for a name it was not configured for.
public final class NodeCertificates: CertificateSource {
  public enum Kind: String, Sendable {
    case files
    case localCA = "local_ca"
    case storage
  }

  public let storage: String
  public let cache: CertificateCache
  public let ticketKeys: TicketKeyRing
  /// The local CA, when some site uses it (created in storage at start).
  public let localCA: LocalCA?
  /// Configured names (exact or `*.` wildcard, lower-case) and where their certificates come from.
  let kinds: [String: Kind]
  /// Sites with `tls { on_demand }`: the wildcard they cover (nil: every name) and their issuers.
  let onDemandSites: [(pattern: String?, issuers: [ACMEIssuer])]
  /// `on_demand_tls { ask }`.
  let onDemandAsk: String?
  /// Gets a certificate for a name at its first handshake (the ACME agent); set by the node.
  /// `(name, issuers, obtain)`: with `obtain` false, the certificate is in storage and only needs renewing.
  public let onDemandIssuer = Locked<(@Sendable (String, [ACMEIssuer], Bool) async -> Bool)?>(nil)
  /// At most `onDemandBurst` on-demand issuances in any `onDemandWindow`, across all names.
  private let onDemandStarts: Locked<[Date]>
  static let onDemandBurst = 10
  static let onDemandWindow: TimeInterval = 60
  /// Certificates loaded from `tls cert key`, by the site name they were configured for.
  let fileCertificates: [String: CertifiedKey]
  /// Where certificates in storage are read: the node's directory, or the cluster's storage.
  let stored: any StoredCertificates
  let logger: Logger
  /// Leaves issued by the local CA, by the name they were issued for, for renewal.
  private let issued: Locked<[String: CertifiedKey]>
  /// Certificates loaded from storage, by the name they were looked up for.
  private let fromStorage: Locked<[String: StoredCertificate]>
  /// Names storage had no certificate for, with the storage directory's modification time then.
  private let missing: Locked<[String: Int?]>
  private let queue = DispatchQueue(label: "edge.certificates", attributes: .concurrent)
  /// OCSP staples for certificates from storage.
  let ocsp: OCSPKeeper

  /// The local CA's directory inside `storage`.
  public static func localCADirectory(storage: String) -> String { storage + "/pki/authorities/local" }

  /// `storage file_system <path>`, else `$XDG_DATA_HOME/edge`, else `~/.local/share/edge`.
  public static func storageDirectory(_ global: GlobalOptions, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    if let storage = global.storage { return storage }
    if let data = environment["XDG_DATA_HOME"], !data.isEmpty { return data + "/edge" }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.local/share/edge"
  }

  /// Reads the configuration's HTTPS sites: loads certificate files (a bad one is a configuration error
  /// at the site's position) and opens the local CA when a site needs it.
  /// `openLocalCA` false (validation): the CA is not created or read. `previous` (a reload): its cache,
  /// ticket keys, local CA and what it issued and loaded carry over, so no certificate is issued, read or
  /// lost again and sessions keep resuming; only which name comes from where is read anew.
  /// `shared` (a cluster member): certificates in storage are read from the cluster's storage, not
  /// from `<storage>/certificates`; the local CA stays in the node's directory.
  public init(
    config: EdgeConfig, logger: Logger, openLocalCA: Bool = true, previous: NodeCertificates? = nil,
    shared: RedisStorage? = nil
  ) throws(ConfigError) {
    storage = Self.storageDirectory(config.global)
    let keep = previous?.storage == storage && (previous?.stored is SharedStoredCertificates) == (shared != nil) ? previous : nil
    cache = keep?.cache ?? CertificateCache()
    ticketKeys = previous?.ticketKeys ?? TicketKeyRing()
    issued = keep?.issued ?? Locked([:])
    onDemandStarts = keep?.onDemandStarts ?? Locked([])
    ocsp = keep?.ocsp ?? OCSPKeeper(logger: logger)
    onDemandAsk = config.global.onDemandTLS?.ask
    var onDemand: [(pattern: String?, issuers: [ACMEIssuer])] = []
    for site in config.sites where site.tls?.onDemand == true {
      for address in site.addresses where site.listening(address, global: config.global).secure {
        onDemand.append((address.host?.lowercased(), config.global.issuers(for: site.tls)))
      }
    }
    onDemandSites = onDemand
    fromStorage = keep?.fromStorage ?? Locked([:])
    missing = keep?.missing ?? Locked([:])
    self.logger = logger
    var kinds: [String: Kind] = [:]
    var files: [String: CertifiedKey] = [:]
    var loadedFiles: [[String]: CertifiedKey] = [:]  // each certificate and key pair is read once
    var needsCA = false
    for site in config.sites {
      for address in site.addresses where site.listening(address, global: config.global).secure {
        let name = address.host?.lowercased()
        let kind: Kind
        switch site.tls?.certificates ?? .automatic {
        case .files(let certificate, let key):
          kind = .files
          let loaded: CertifiedKey
          if let known = loadedFiles[[certificate, key]] {
            loaded = known
          } else {
            do {
              loaded = try CertifiedKey(certificateFile: certificate, keyFile: key)
            } catch {
              throw ConfigError("cannot use 'tls \(certificate) \(key)': \(error)", at: site.location)
            }
            loadedFiles[[certificate, key]] = loaded
          }
          if let name { files[name] = loaded } else { cache.setDefault(loaded) }
          cache.insert(loaded)
        case .internal:
          kind = .localCA
        case .automatic:
          kind = config.global.localCerts || address.isInternalName ? .localCA : .storage
        }
        guard let name else { continue }
        if let other = kinds[name], other != kind {
          throw ConfigError(
            "'\(name)' gets certificates from both \(other.rawValue) and \(kind.rawValue); give its sites one 'tls' setting",
            at: site.location)
        }
        kinds[name] = kind
        needsCA = needsCA || kind == .localCA
      }
    }
    self.kinds = kinds
    fileCertificates = files
    let storageDirectory = storage
    let log = logger
    if let shared {
      // A process has one cluster storage: a reload keeps the reader (and its event count).
      stored = (keep?.stored as? SharedStoredCertificates)
        ?? SharedStoredCertificates(storage: shared) { error in
          log.warning("certificate in cluster storage is unusable or unreachable", metadata: ["error": "\(error)"])
        }
    } else {
      stored = FileStoredCertificates(directory: storage + "/certificates") { error in
        log.warning("certificate in storage is unusable", metadata: ["error": "\(error)", "storage": "\(storageDirectory)"])
      }
    }
    // The directory exists from the start, so "nothing was written there since" can be told by its
    // modification time (see `knownMissing`).
    if openLocalCA && shared == nil && kinds.values.contains(.storage) {
      do {
        try FileManager.default.createDirectory(
          atPath: storage + "/certificates", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      } catch {
        throw ConfigError("cannot create the certificate storage \(storage)/certificates: \(error.localizedDescription)")
      }
    }
    if let ca = keep?.localCA {
      localCA = ca
    } else if needsCA && openLocalCA {
      do {
        localCA = try LocalCA(directory: Self.localCADirectory(storage: storage))
      } catch {
        throw ConfigError("cannot open the local CA in \(Self.localCADirectory(storage: storage)): \(error)")
      }
    } else {
      localCA = nil
    }
  }

  /// What TLS listeners use: this node's cache, filled on demand through one lookup per name at a time,
  /// and the TLS-ALPN-01 answers the ACME agent puts up.
  public func environment(
    lookupTimeoutMilliseconds: UInt64, challenges: ChallengeCertificates? = nil, telemetry: (any TLSTelemetrySink)? = nil
  ) -> TLSEnvironment {
    var configuration = TLSConfiguration()
    configuration.ticketKeys = ticketKeys
    configuration.challenges = challenges
    configuration.telemetry = telemetry
    return TLSEnvironment(
      cache: cache, source: CoalescingCertificateSource(self, filling: cache), configuration: configuration,
      lookupTimeoutMilliseconds: lookupTimeoutMilliseconds)
  }

  /// The configured name covering `serverName`: itself, or the wildcard for its parent.
  func configuredName(for serverName: String) -> (String, Kind)? {
    if let kind = kinds[serverName] { return (serverName, kind) }
    guard let wildcard = WildcardName.covering(serverName) else { return nil }
    return kinds[wildcard].map { (wildcard, $0) }
  }

  // MARK: CertificateSource

  public func certificate(for serverName: String, _ done: @escaping @Sendable (CertifiedKey?) -> Void) {
    if let issuers = onDemandIssuers(for: serverName) {
      return obtainOnDemand(serverName, issuers, done)
    }
    guard let (name, kind) = configuredName(for: serverName) else {
      logger.debug("no site for this server name", metadata: ["name": "\(serverName)"])
      return done(nil)
    }
    if kind == .storage, knownMissing(serverName) { return done(nil) }
    logger.info("certificate lookup", metadata: ["name": "\(serverName)", "source": "\(kind.rawValue)"])
    switch kind {
    case .files:
      done(fileCertificates[name])
    case .storage:
      queue.async { done(self.loadStored(serverName)) }
    case .localCA:
      queue.async { done(self.issue(name)) }
    }
  }

  /// A certificate from `<storage>/certificates`, remembered with its file's modification time so a
  /// replacement written there later is noticed by the upkeep.
  private func loadStored(_ name: String) -> CertifiedKey? {
    let generation = stored.generation()
    guard let found = stored.load(name) else {
      missing.withLock { $0[name] = generation }
      logger.warning(
        "no certificate in storage for this name yet; handshakes are refused until the ACME agent (or you) puts one there",
        metadata: ["name": "\(name)", "expected": "\(stored.expectedLocation(name))"])
      return nil
    }
    remember(name, found)
    return found.key
  }

  /// Records the certificate loaded from storage for `name` (its file's modification time, for the
  /// upkeep) and keeps it stapled; returns the one it replaces.
  @discardableResult
  private func remember(_ name: String, _ entry: StoredCertificate) -> StoredCertificate? {
    let old = fromStorage.withLock { loaded -> StoredCertificate? in
      defer { loaded[name] = entry }
      return loaded[name]
    }
    ocsp.keep(entry.key, chainPEM: entry.chainPEM, name: name, replacing: old?.key)
    return old
  }

  /// Whether `name` was missing from storage and nothing has been written there since (see
  /// `StoredCertificates.generation`). Saves a burst of handshakes for a name without a certificate from
  /// reading storage and logging once each.
  private func knownMissing(_ name: String) -> Bool {
    guard let stamp = missing.withLock({ $0[name] }) else { return false }
    return stamp != nil && stamp == stored.generation()
  }

  /// The issuers of the on-demand site that covers `serverName`: one written for that very name, else
  /// for its wildcard, else a catch-all — unless a site without on_demand lists the name (or wildcard)
  /// first, whose certificate is managed as usual.
  func onDemandIssuers(for serverName: String) -> [ACMEIssuer]? {
    guard !onDemandSites.isEmpty else { return nil }
    if let exact = onDemandSites.first(where: { $0.pattern == serverName }) { return exact.issuers }
    if kinds[serverName] != nil { return nil }
    let wildcard = WildcardName.covering(serverName)
    if let covering = onDemandSites.first(where: { $0.pattern == wildcard }) { return covering.issuers }
    if let wildcard, kinds[wildcard] != nil { return nil }
    return onDemandSites.first { $0.pattern == nil }?.issuers
  }

  /// On-demand TLS: a certificate from storage if there is one; else, if `ask` allows the name and the
  /// rate limit has room, one from the ACME agent (the handshake waits, off the loop).
  private func obtainOnDemand(_ name: String, _ issuers: [ACMEIssuer], _ done: @escaping @Sendable (CertifiedKey?) -> Void) {
    if let found = stored.load(name) {
      // Obtained on demand before (perhaps by an earlier run of this node, or by another node): renewed
      // from now on.
      remember(name, found)
      if let keep = onDemandIssuer.withLock({ $0 }) { Task { _ = await keep(name, issuers, false) } }
      return done(found.key)
    }
    guard let ask = onDemandAsk, let issue = onDemandIssuer.withLock({ $0 }) else { return done(nil) }
    let logger = self.logger
    Task {
      guard await Self.asks(ask, name, logger) else {
        logger.info("on-demand certificate refused by ask", metadata: ["name": "\(name)", "ask": "\(ask)"])
        return done(nil)
      }
      guard self.takeOnDemandSlot() else {
        logger.warning(
          "on-demand certificate refused: rate limit",
          metadata: ["name": "\(name)", "limit": "\(Self.onDemandBurst) per \(Int(Self.onDemandWindow)) s"])
        return done(nil)
      }
      guard await issue(name, issuers, true), let found = self.stored.load(name) else { return done(nil) }
      self.remember(name, found)
      done(found.key)
    }
  }

  private func takeOnDemandSlot() -> Bool {
    onDemandStarts.withLock { starts in
      let now = Date()
      starts.removeAll { now.timeIntervalSince($0) > Self.onDemandWindow }
      guard starts.count < Self.onDemandBurst else { return false }
      starts.append(now)
      return true
    }
  }

  /// `GET <ask>?domain=<name>`: 200 allows the name; anything else, or no answer in 10 s, refuses it.
  static func asks(_ ask: String, _ name: String, _ logger: Logger) async -> Bool {
    var configuration = ACMEHTTPSTransport.Configuration()
    configuration.allowInsecureHTTP = true
    configuration.requestTimeout = .seconds(10)
    let separator = ask.contains("?") ? "&" : "?"
    let encoded = name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? name
    do {
      let transport = try ACMEHTTPSTransport(configuration: configuration)
      let response = try await transport.send(ACMEHTTPRequest(method: "GET", url: ask + separator + "domain=" + encoded))
      return response.status == 200
    } catch {
      logger.warning("on-demand ask endpoint failed; refusing", metadata: ["name": "\(name)", "error": "\(error)"])
      return false
    }
  }

  /// The names the ACME agent keeps certificates for, with their issuers. Wildcards need DNS-01, which
  /// edge has no provider for yet: they are left to storage (placed by hand), and said so.
  public func managedNames(_ config: EdgeConfig) -> [String: CertificateManager.Managed] {
    var names: [String: CertificateManager.Managed] = [:]
    if config.global.autoHTTPS == .disableCerts { return names }
    // On-demand sites get a certificate per name at its first handshake, not one for the site address.
    for site in config.sites where site.tls?.onDemand != true {
      for address in site.addresses where site.listening(address, global: config.global).secure {
        guard let name = address.host?.lowercased(), kinds[name] == .storage else { continue }
        let issuers = config.global.issuers(for: site.tls)
        if name.hasPrefix("*."), !issuers.allSatisfy({ $0.dns != nil }) {
          logger.warning(
            "a wildcard certificate needs the DNS-01 challenge: give its site 'tls { dns exec <program> }' (or acme_dns), or place one in storage",
            metadata: ["name": "\(name)", "expected": "\(stored.expectedLocation(name))"])
          continue
        }
        names[name] = CertificateManager.Managed(issuers: issuers)
      }
    }
    return names
  }

  /// The certificate for `name` in storage changed (the ACME agent wrote it): the next handshake serves
  /// the new one — it replaces the old in the cache, and a name that was missing is looked up again.
  /// `deleted`: it was removed from storage on purpose (revoked): stop serving it if it is gone.
  public func storedCertificateChanged(_ name: String, deleted: Bool = false) {
    missing.withLock { $0[name] = nil }
    guard let fresh = stored.load(name) else {
      if deleted { dropIfGone(name) }
      return
    }
    if let old = remember(name, fresh) { cache.replace(old.key, with: fresh.key) } else { cache.insert(fresh.key) }
  }

  /// How many certificates from storage this node serves.
  public var storedCount: Int { fromStorage.withLock { $0.count } }

  /// Cluster storage may have changed (an event, or Redis came back): names found missing are looked up
  /// again at their next handshake.
  public func sharedInvalidate() {
    (stored as? SharedStoredCertificates)?.invalidate()
  }

  /// A certificate no longer in cluster storage (deleted or revoked by another node or `edge certs
  /// revoke`) stops being served — only when storage really answered "none": a lookup that failed (Redis
  /// away) leaves the cached one in service. (A node alone keeps serving a file that vanished until it is
  /// replaced, as before.)
  private func dropIfGone(_ name: String) {
    guard let shared = stored as? SharedStoredCertificates, !shared.storage.exists(StorageKeys.certificate(name)),
      shared.storage.isReachable,
      let old = fromStorage.withLock({ $0.removeValue(forKey: name) })
    else { return }
    cache.remove(old.key)
    ocsp.stop(old.key)
    logger.info("certificate removed from cluster storage; no longer served", metadata: ["name": "\(name)"])
  }

  /// Reloads storage certificates whose files changed since they were loaded (a renewal written by
  /// another process); the next handshake serves the new one.
  public func reloadChangedStoredCertificates() {
    let entries = fromStorage.withLock { $0 }
    for (name, entry) in entries where stored.stamp(of: entry.id) != entry.stamp {
      // Missing now is ambiguous (deleted, or a Redis that lost its data): the one in service stays
      // until a replacement is stored or a cert.deleted event says otherwise.
      guard let fresh = stored.load(name) else { continue }
      remember(name, fresh)
      cache.replace(entry.key, with: fresh.key)
      logger.info("certificate in storage changed; serving the new one", metadata: ["name": "\(name)", "from": "\(fresh.id)"])
    }
  }

  /// A leaf from the local CA for `name`, remembered for renewal.
  private func issue(_ name: String) -> CertifiedKey? {
    guard let localCA else { return nil }
    do {
      let (chain, key, notAfter) = try localCA.issue(for: [name])
      let certified = try CertifiedKey(chainPEM: chain, keyPEM: key)
      issued.withLock { $0[name] = certified }
      logger.info("certificate issued by the local CA", metadata: ["name": "\(name)", "not_after": "\(notAfter)"])
      return certified
    } catch {
      logger.error("local CA cannot issue a certificate", metadata: ["name": "\(name)", "error": "\(error)"])
      return nil
    }
  }

  // MARK: Upkeep

  /// Starts the background upkeep: every `interval`, storage certificates whose files changed are
  /// reloaded and local-CA leaves with less than a third of their lifetime left are re-issued (either way
  /// the next handshake serves the new one), and every hour the session-ticket key rotates (tickets sealed
  /// by the last three keys still resume). The caller keeps the returned timer.
  public func startUpkeep(interval: Duration = .seconds(60)) -> DispatchSourceTimer {
    let timer = DispatchSource.makeTimerSource(queue: queue)
    let seconds = Int(interval.components.seconds)
    timer.schedule(deadline: .now() + .seconds(seconds), repeating: .seconds(seconds))
    let rotateEvery = max(1, 3600 / max(seconds, 1))
    let ticks = Locked(0)
    timer.setEventHandler { [weak self] in
      guard let self else { return }
      self.reloadChangedStoredCertificates()
      self.renewDueLeaves(now: Int(Date().timeIntervalSince1970))
      let rotate = ticks.withLock { count -> Bool in
        count += 1
        return count % rotateEvery == 0
      }
      if rotate { self.ticketKeys.rotate() }
    }
    timer.resume()
    return timer
  }

  /// Re-issues local-CA leaves that are due (a third of their 12 h or less left).
  public func renewDueLeaves(now: Int) {
    let due = issued.withLock { leaves in leaves.filter { Self.isDue($0.value, now: now) } }
    for (name, old) in due {
      guard let fresh = issue(name) else { continue }
      cache.replace(old, with: fresh)
    }
  }

  static func isDue(_ key: CertifiedKey, now: Int, lifetime: Int = 12 * 3600) -> Bool {
    key.notAfter - now < lifetime / 3
  }
}
