import EdgeACME
import EdgeConfig
import EdgeCore
import EdgeMetrics
import EdgeHTTP
import EdgeStorage
import EdgeTLS
import Foundation
import Logging

/// The ACME agent: keeps a certificate in storage for every managed name, obtaining it when missing and
/// renewing it when due, and tells the node when one changes so the next handshake serves it.
///
/// One task per name. Obtaining and renewing happen under the name's storage lock, re-checking storage
/// once the lock is held, so several processes (or nodes) sharing storage produce one certificate. The
/// issuers are tried in order. Failures back off — briefly when the CA could not be reached (nothing
/// was spent at the CA), longer when it refused (validation failures count against rate limits) — and
/// a CA's Retry-After is honoured. Nothing here blocks an event loop: network I/O runs on the ACME
/// transport's own threads, storage on the cooperative pool.
public actor CertificateManager {
  /// What a managed name needs.
  public struct Managed: Sendable, Equatable {
    public var issuers: [ACMEIssuer]
    public init(issuers: [ACMEIssuer]) { self.issuers = issuers }
  }

  let storage: any CertificateStorage
  let httpChallenges: HTTPChallenges
  let tlsChallenges: ChallengeCertificates
  let logger: Logger
  /// Who holds storage locks: this process.
  let owner: String
  /// Called (off the actor) when a name's certificate in storage changed.
  let onChange: @Sendable (String) -> Void
  /// Called when this process stored a certificate it obtained (`renewed`: it replaced one): a cluster
  /// member tells the others.
  let onIssued: (@Sendable (_ name: String, _ renewed: Bool) -> Void)?
  /// How long a storage lock lives without a refresh: how long others wait when its holder dies.
  let lockTTL: Duration
  var policy: RenewalPolicy
  private var managed: [String: Managed] = [:]
  /// Names obtained on demand: kept (and renewed) whatever the configuration lists.
  private var onDemand: [String: Managed] = [:]
  private var tasks: [String: Task<Void, Never>] = [:]
  private var clients: [String: ACMEClient] = [:]
  /// A random moment per name inside its renewal jitter range, fixed for the life of the process.
  private var jitters: [String: Double] = [:]
  /// Names being obtained right now (their tasks are not restarted by a reload).
  private var busy: Set<String> = []
  /// After a failure, no new attempt for the name before this (a reload restarting its task included).
  private var notBefore: [String: Date] = [:]
  /// Failed attempts per name since its last success (for backoff and `edge certs list`).
  private(set) var failures: [String: Int] = [:]

  public init(
    storage: any CertificateStorage, httpChallenges: HTTPChallenges, tlsChallenges: ChallengeCertificates,
    renewalRatio: Double?, logger: Logger, owner: String? = nil, lockTTL: Duration = .seconds(60),
    onIssued: (@Sendable (_ name: String, _ renewed: Bool) -> Void)? = nil,
    onChange: @escaping @Sendable (String) -> Void
  ) {
    self.storage = storage
    self.httpChallenges = httpChallenges
    self.tlsChallenges = tlsChallenges
    self.policy = RenewalPolicy(ratio: renewalRatio)
    self.logger = logger
    self.onChange = onChange
    self.onIssued = onIssued
    self.lockTTL = lockTTL
    var host = [CChar](repeating: 0, count: 256)
    gethostname(&host, host.count)
    let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    self.owner = "\(owner ?? hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }

  /// The names to manage now (a configuration was loaded): new ones start, removed ones stop, changed
  /// issuer settings apply from the next attempt.
  public func manage(_ names: [String: Managed], renewalRatio: Double?) {
    policy = RenewalPolicy(ratio: renewalRatio)
    for (name, task) in tasks where names[name] == nil && onDemand[name] == nil {
      task.cancel()
      tasks[name] = nil
      logger.info("no longer managing a certificate", metadata: ["name": "\(name)"])
    }
    managed = onDemand.merging(names) { $1 }
    for name in names.keys.sorted() {
      // A name waiting for its renewal date looks at storage again now (a certificate revoked or
      // removed by hand is replaced at once); one being obtained goes on.
      if let task = tasks[name], !busy.contains(name) {
        task.cancel()
        tasks[name] = nil
      }
      if tasks[name] == nil { tasks[name] = Task { [weak self] in await self?.maintain(name) } }
    }
  }

  /// On-demand TLS: obtains `name` now (the handshake is waiting) and keeps renewing it afterwards;
  /// with `obtain` false (storage already has it, e.g. after a restart) only the renewing. Returns
  /// whether storage has a certificate for it.
  public func obtainOnDemand(_ name: String, issuers: [ACMEIssuer], obtain: Bool = true) async -> Bool {
    let settings = Managed(issuers: issuers)
    onDemand[name] = settings
    if managed[name] == nil { managed[name] = settings }
    guard obtain else {
      if tasks[name] == nil { tasks[name] = Task { [weak self] in await self?.maintain(name) } }
      return true
    }
    do {
      try await obtainLocked(name)
      logger.info("on-demand certificate ready", metadata: ["name": "\(name)"])
    } catch {
      logger.error("on-demand certificate failed", metadata: ["name": "\(name)", "error": "\(error)"])
      return false
    }
    if tasks[name] == nil { tasks[name] = Task { [weak self] in await self?.maintain(name) } }
    return true
  }

  /// Stops every task (shutdown). A lock held is released by its `withLock`.
  public func stop() {
    for task in tasks.values { task.cancel() }
    tasks = [:]
  }

  // MARK: The per-name loop

  private func maintain(_ name: String) async {
    while !Task.isCancelled {
      if let due = dueDate(name), due > Date() {
        // Re-evaluated at least twice a day (a certificate replaced by another node, a new ARI window).
        await sleep(until: min(due, Date().addingTimeInterval(12 * 3600)))
        continue
      }
      if let wait = notBefore[name], wait > Date() {
        await sleep(until: wait)
        continue
      }
      do {
        try await obtainLocked(name)
        failures[name] = nil
        notBefore[name] = nil
      } catch is CancellationError {
        return
      } catch {
        let count = (failures[name] ?? 0) + 1
        failures[name] = count
        let delay = Self.backoff(after: count, error)
        logger.error(
          "could not obtain a certificate; will try again",
          metadata: ["name": "\(name)", "attempt": "\(count)", "retry_in": "\(Int(delay))s", "error": "\(error)"])
        recordError(name, error)
        notBefore[name] = Date().addingTimeInterval(delay)
        await sleep(until: Date().addingTimeInterval(delay))
      }
    }
  }

  /// When `name` needs a (new) certificate: nil when storage has none. A certificate placed in storage
  /// by hand (no metadata) is renewed like one of ours, from the dates in it.
  private func dueDate(_ name: String) -> Date? {
    guard storage.exists(StorageKeys.privateKey(name)), let chain = try? storage.load(StorageKeys.certificate(name))
    else { return nil }
    let jitter = jitters[name] ?? Double.random(in: 0..<1)
    jitters[name] = jitter
    if let metadata = metadata(name) { return policy.dueDate(metadata, jitter: jitter) }
    guard let leaf = try? ACMELeafCertificate(chainPEM: String(decoding: chain, as: UTF8.self)) else { return nil }
    return policy.dueDate(notBefore: leaf.notBefore, notAfter: leaf.notAfter, jitter: jitter)
  }

  private func metadata(_ name: String) -> CertificateMetadata? {
    (try? storage.load(StorageKeys.metadata(name))).flatMap { try? CertificateMetadata.decode($0) }
  }

  /// Obtains `name` under its storage lock, unless another process did it while this one waited.
  private func obtainLocked(_ name: String) async throws {
    guard let settings = managed[name] else { return }
    busy.insert(name)
    defer { busy.remove(name) }
    try await storage.withLock(StorageKeys.certificateLock(name), owner: owner, ttl: lockTTL, poll: .seconds(1)) {
      try await self.obtainIfStillDue(name, settings)
    }
  }

  private func obtainIfStillDue(_ name: String, _ settings: Managed) async throws {
    if let due = dueDate(name), due > Date() {
      logger.info("certificate already renewed by another process", metadata: ["name": "\(name)"])
      onChange(name)
      return
    }
    var lastError: (any Error)?
    for issuer in settings.issuers {
      do {
        try await issue(name, from: issuer)
        return
      } catch is CancellationError {
        throw CancellationError()
      } catch {
        Self.ordersFailed.increment()
        logger.warning(
          "issuer failed", metadata: ["name": "\(name)", "issuer": "\(issuer.directory)", "error": "\(error)"])
        lastError = error
      }
    }
    throw lastError ?? ManagerError("no issuer configured for \(name)")
  }

  /// One order at one CA; the key, chain and metadata stored, the node told.
  private func issue(_ name: String, from issuer: ACMEIssuer) async throws {
    let started = Date()
    let client = try await client(for: issuer)
    let key = try CertificateKey.generateP256()
    var solvers: [any ACMEChallengeSolver] = []
    if let dns = issuer.dns {
      // As in Caddy: with a DNS provider, DNS-01 only (it works for wildcards and behind any firewall).
      solvers.append(DNS01ExecSolver(provider: dns, logger: logger))
    } else if !issuer.disableHTTPChallenge {
      solvers.append(HTTP01Solver(challenges: httpChallenges, storage: storage, logger: logger))
    }
    if issuer.dns == nil, !issuer.disableTLSALPNChallenge {
      solvers.append(TLSALPN01Solver(challenges: tlsChallenges, storage: storage, logger: logger))
    }
    let previous = metadata(name)
    let previousID = (try? storage.load(StorageKeys.certificate(name)))
      .flatMap { try? ACMELeafCertificate(chainPEM: String(decoding: $0, as: UTF8.self)) }?.renewalCertificateID
    let certificate = try await client.obtain(
      names: [name], csrDER: try key.csr(names: [name]), solvers: solvers, replacing: previousID)
    // The key first: a reader that sees the new chain finds its key already there.
    try storage.store(StorageKeys.privateKey(name), Array(key.pem.utf8), secret: true)
    try storage.store(StorageKeys.certificate(name), Array(certificate.chainPEM.utf8), secret: false)
    var metadata = CertificateMetadata(
      issuer: issuer.directory, names: [name], notBefore: certificate.notBefore, notAfter: certificate.notAfter,
      obtainedAt: Date(), renewals: previous.map { $0.renewals + 1 } ?? 0)
    if let info = try? await client.renewalInfo(certificatePEM: certificate.chainPEM) {
      metadata.ari = CertificateMetadata.RenewalInfo(
        windowStart: info.suggestedWindow.start, windowEnd: info.suggestedWindow.end,
        retryAfter: info.retryAfter.map { Date().addingTimeInterval(Double($0.components.seconds)) })
    }
    try storage.store(StorageKeys.metadata(name), try metadata.encoded(), secret: false)
    logger.info(
      previous == nil ? "certificate obtained" : "certificate renewed",
      metadata: [
        "name": "\(name)", "issuer": "\(issuer.directory)", "not_after": "\(certificate.notAfter)",
        "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(started)))",
      ])
    Self.ordersIssued.increment()
    Self.orderDuration.record(Date().timeIntervalSince(started))
    if previous != nil { Self.renewals.increment() }
    onChange(name)
    onIssued?(name, previous != nil)
  }

  static let ordersIssued = Families.acmeOrders.counter([("result", "issued")])
  static let ordersFailed = Families.acmeOrders.counter([("result", "failed")])
  static let orderDuration = Families.acmeOrderDuration.histogram(buckets: Buckets.slow)
  static let renewals = Families.acmeRenewals.counter()

  /// The ACME client for an issuer and contact, with its account key from storage (made and stored the
  /// first time), registered at the CA once.
  private func client(for issuer: ACMEIssuer) async throws -> ACMEClient {
    let id = issuer.directory + "|" + (issuer.email ?? "")
    if let client = clients[id] { return client }
    let keyName = StorageKeys.accountKey(directoryURL: issuer.directory, email: issuer.email)
    let accountKey: ACMEAccountKey
    if let pem = try? storage.load(keyName) {
      accountKey = try ACMEAccountKey(pem: String(decoding: pem, as: UTF8.self))
    } else {
      accountKey = try ACMEAccountKey.generate()
      try storage.store(keyName, Array(try accountKey.pem().utf8), secret: true)
    }
    var transport = ACMEHTTPSTransport.Configuration()
    transport.extraRootFiles = issuer.trustedRoots ?? []
    transport.userAgent = "edge edge-acme/1"
    let eab = try issuer.eab.map { try ACMEExternalAccountBinding(keyID: $0.keyID, macKey: $0.macKey) }
    let client = ACMEClient(
      directoryURL: issuer.directory, transport: try ACMEHTTPSTransport(configuration: transport),
      accountKey: accountKey, contact: issuer.email.map { [$0] } ?? [], externalAccountBinding: eab)
    _ = try await client.account()
    clients[id] = client
    return client
  }

  private func recordError(_ name: String, _ error: any Error) {
    guard var metadata = metadata(name) else { return }
    metadata.lastError = "\(error)"
    metadata.lastErrorAt = Date()
    if let bytes = try? metadata.encoded() { try? storage.store(StorageKeys.metadata(name), bytes, secret: false) }
  }

  /// Seconds before the next attempt after `count` failures: from 2 s doubling to 2 min when the CA could
  /// not be reached or answered 5xx, from 1 min doubling to 6 h when it refused (an invalid challenge,
  /// rate limit); never before the CA's Retry-After.
  static func backoff(after count: Int, _ error: any Error) -> Double {
    let exponent = Double(min(count - 1, 16))
    let acme = error as? ACMEError
    let refused = acme?.problem != nil && (acme?.httpStatus ?? 0) < 500
    let delay = refused ? min(60 * pow(2, exponent), 6 * 3600) : min(2 * pow(2, exponent), 120)
    let retryAfter = acme?.retryAfter.map { Double($0.components.seconds) } ?? 0
    return max(delay, retryAfter) * Double.random(in: 0.9...1.1)
  }

  private func sleep(until date: Date) async {
    let seconds = date.timeIntervalSinceNow
    guard seconds > 0 else { return }
    try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
  }
}

/// HTTP-01: the key authorization served by every plain-HTTP listener of this node.
/// Put up in storage too, so another process sharing it (the one the CA's request reaches) answers.
struct HTTP01Solver: ACMEChallengeSolver {
  let challenges: HTTPChallenges
  let storage: any CertificateStorage
  let logger: Logger
  var challengeType: String { "http-01" }
  func present(identifier: String, token: String, keyAuthorization: String) async throws {
    challenges.present(token: token, keyAuthorization: keyAuthorization)
    try storage.store(StorageKeys.challengeToken(token), Array(keyAuthorization.utf8), secret: false)
  }
  func cleanUp(identifier: String, token: String, keyAuthorization: String) async {
    challenges.remove(token: token)
    try? storage.delete(StorageKeys.challengeToken(token))
  }
}

/// TLS-ALPN-01: the challenge certificate served to `acme-tls/1` handshakes for the name.
/// Put up in storage too (the throwaway key sealed like any other), so another process or cluster node
/// that the CA's connection reaches presents it.
struct TLSALPN01Solver: ACMEChallengeSolver {
  let challenges: ChallengeCertificates
  let storage: any CertificateStorage
  let logger: Logger
  var challengeType: String { "tls-alpn-01" }
  func present(identifier: String, token: String, keyAuthorization: String) async throws {
    let (certificate, key) = try ACMETLSALPN01.challengeCertificate(identifier: identifier, keyAuthorization: keyAuthorization)
    challenges.present(try CertifiedKey(chainPEM: certificate, keyPEM: key), for: identifier)
    let keys = StorageKeys.tlsALPNChallenge(identifier)
    try storage.store(keys.key, Array(key.utf8), secret: true)
    try storage.store(keys.certificate, Array(certificate.utf8), secret: false)
  }
  func cleanUp(identifier: String, token: String, keyAuthorization: String) async {
    challenges.remove(for: identifier)
    let keys = StorageKeys.tlsALPNChallenge(identifier)
    try? storage.delete(keys.certificate)
    try? storage.delete(keys.key)
  }
}

struct ManagerError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// DNS-01 through the operator's program: `<command> present <record> <value>` publishes the TXT record,
/// `<command> cleanup <record> <value>` removes it (see `DNSProvider`).
struct DNS01ExecSolver: ACMEChallengeSolver {
  let provider: DNSProvider
  let logger: Logger
  var challengeType: String { "dns-01" }

  func present(identifier: String, token: String, keyAuthorization: String) async throws {
    let record = ACMEKeyAuthorization.dns01RecordName(for: identifier)
    try await run("present", record, ACMEKeyAuthorization.dns01Value(keyAuthorization))
    if let delay = provider.propagationDelay { try await Task.sleep(for: delay) }
  }

  func cleanUp(identifier: String, token: String, keyAuthorization: String) async {
    let record = ACMEKeyAuthorization.dns01RecordName(for: identifier)
    do {
      try await run("cleanup", record, ACMEKeyAuthorization.dns01Value(keyAuthorization))
    } catch {
      logger.warning("DNS-01 cleanup failed; the TXT record may stay", metadata: ["record": "\(record)", "error": "\(error)"])
    }
  }

  /// Runs the program (off every loop), at most two minutes; exit status 0 is success.
  private func run(_ action: String, _ record: String, _ value: String) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: provider.command[0])
    process.arguments = Array(provider.command.dropFirst()) + [action, record, value]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
      process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
      do { try process.run() } catch { continuation.resume(throwing: error) }
      let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
      DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
    }
    guard status == 0 else {
      let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      throw ManagerError("DNS provider '\(provider.command[0]) \(action)' exited with \(status): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
    logger.info("DNS-01 record \(action == "present" ? "published" : "removed")", metadata: ["record": "\(record)"])
  }
}
