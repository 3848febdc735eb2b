import Dispatch
import EdgeCluster
import EdgeConfig
import EdgeCore
import EdgeHTTP
import EdgeLoop
import EdgeStorage
import EdgeTLS
import Foundation
import Glibc
import Logging

/// A running edge node: worker loops with their listeners, and the control loop (this thread) that
/// handles signals, reloads and shutdown.
public final class Node {
  public private(set) var config: EdgeConfig
  private(set) var routes: RouteTable
  private let logger: Logger
  /// Made when the node runs, so `edge validate` (which builds a Node to check the config) opens nothing.
  private lazy var control = EventLoop(index: -1)
  private(set) var workers: [Worker] = []
  private var signals: [SignalWatcher] = []
  private var shutdownTimer: LoopTimer?
  private(set) var shuttingDown = false
  private var upkeep: DispatchSourceTimer?
  private var admin: AdminServer?
  /// Open client connections and `max_connections`, shared by every worker.
  let budget = ConnectionBudget(limit: .max)
  /// The open-file limit the node runs with (raised to the hard limit at start): `max_connections`' default.
  private var openFiles = 1024

  /// The node's certificates (cache, sources, local CA, upkeep).
  public private(set) var certificates: NodeCertificates
  /// ACME answers every listener gives while a challenge is pending.
  let httpChallenges = HTTPChallenges()
  let tlsChallenges = ChallengeCertificates()
  /// TLS telemetry counters (kept across reloads; fed only while the `telemetry` option is on).
  public let telemetry = TLSTelemetry()
  private var telemetryPublisher: TLSTelemetryPublisher?
  /// The ACME agent (started with the node; nil when validating).
  private var manager: CertificateManager?
  private var managerStorage: String?
  /// Reads the configuration again (SIGHUP); nil: reloading is off.
  private let reader: (() throws(ConfigError) -> EdgeConfig)?
  /// The cluster this node is a member of (`edge join`); nil: a node alone on local storage.
  public let cluster: ClusterAgent?
  /// The cluster configuration version this node started with.
  private let clusterVersion: Int
  /// What `edge_build_info` says (the CLI sets its version).
  public var buildVersion = "unknown"
  /// The certificate cache in service, readable from any thread (`/metrics`).
  let serving: Locked<CertificateCache>
  /// The route table in service, readable from any thread (`/metrics` renders on workers too).
  let servingRoutes: Locked<RouteTable>
  /// Active health checks of the table in service (made when the node runs).
  private var healthCheckers: HealthCheckers?

  /// `validateOnly`: check everything (certificate files included) but create nothing in storage.
  /// `reader`: where SIGHUP reads the new configuration from.
  /// `cluster`: a member of that cluster, running its configuration version `clusterVersion`.
  public init(
    config: EdgeConfig, logger: Logger, validateOnly: Bool = false,
    reader: (() throws(ConfigError) -> EdgeConfig)? = nil, cluster: ClusterAgent? = nil, clusterVersion: Int = 0
  ) throws(ConfigError) {
    self.config = config
    self.cluster = cluster
    self.clusterVersion = clusterVersion
    certificates = try NodeCertificates(
      config: Self.local(config, cluster), logger: Logger(label: "edge.tls"), openLocalCA: !validateOnly,
      shared: cluster?.storage)
    self.routes = try Self.table(config, certificates, tlsChallenges, telemetry)
    self.logger = logger
    self.reader = reader
    serving = Locked(certificates.cache)
    servingRoutes = Locked(routes)
  }

  /// The configuration as this node runs it: a cluster member keeps its own files (the local copy of
  /// certificates, its local CA) in its own directory, whatever the shared configuration says.
  private static func local(_ config: EdgeConfig, _ cluster: ClusterAgent?) -> EdgeConfig {
    guard let cluster else { return config }
    var config = config
    config.global.storage = cluster.options.storage
    return config
  }

  private static func table(
    _ config: EdgeConfig, _ certificates: NodeCertificates, _ challenges: ChallengeCertificates, _ telemetry: TLSTelemetry
  ) throws(ConfigError) -> RouteTable {
    // A handshake waiting for a certificate gives up (alert) before the header timeout closes it silently.
    let lookupTimeout = min(10_000, config.global.servers.readHeaderTimeout.milliseconds * 3 / 4)
    return try RouteTable(
      config: config,
      tls: certificates.environment(
        lookupTimeoutMilliseconds: lookupTimeout, challenges: challenges, telemetry: config.global.telemetry ? telemetry : nil))
  }

  /// HTTP-01 answers put up in storage by another process sharing it (or another node of the cluster)
  /// are answered here too.
  private func answerSharedChallenges() {
    let storage: any CertificateStorage = cluster?.storage ?? FileStorage(root: certificates.storage)
    let logger = self.logger
    let from = cluster == nil ? "another process sharing storage" : "another node: answered from the cluster"
    httpChallenges.useShared { token in
      guard let bytes = try? storage.load(StorageKeys.challengeToken(token)) else { return nil }
      logger.info("ACME HTTP-01 validation put up by \(from)", metadata: ["token": "\(token)"])
      return String(decoding: bytes, as: UTF8.self)
    }
    tlsChallenges.useShared { name in
      let keys = StorageKeys.tlsALPNChallenge(name)
      guard let chain = try? storage.load(keys.certificate), let key = try? storage.load(keys.key),
        let certified = try? CertifiedKey(chainPEM: String(decoding: chain, as: UTF8.self), keyPEM: String(decoding: key, as: UTF8.self))
      else { return nil }
      logger.info("ACME TLS-ALPN-01 validation put up by \(from)", metadata: ["name": "\(name)"])
      return certified
    }
  }

  /// Hands the ACME agent the names it manages now (created with the first managed name, or again when
  /// the storage directory changed).
  private func manageCertificates() {
    let names = certificates.managedNames(config)
    if manager == nil || managerStorage != certificates.storage {
      guard !names.isEmpty || !certificates.onDemandSites.isEmpty else { return }
      let old = manager
      Task { await old?.stop() }
      let storage = certificates.storage
      let control = self.control
      // `certificates` is read and replaced on the control loop only; the hop keeps it that way.
      nonisolated(unsafe) unowned let node = self
      let cluster = self.cluster
      let sharedStorage: any CertificateStorage = cluster?.storage ?? FileStorage(root: storage)
      var onIssued: (@Sendable (String, Bool) -> Void)?
      if let cluster {
        onIssued = { name, renewed in
          cluster.publish(
            ClusterEvent(type: renewed ? .certificateRenewed : .certificateIssued, name: name, node: cluster.options.nodeID))
        }
      }
      manager = CertificateManager(
        storage: sharedStorage, httpChallenges: httpChallenges, tlsChallenges: tlsChallenges,
        renewalRatio: config.global.renewalWindowRatio, logger: Logger(label: "edge.acme"), owner: cluster?.options.nodeID,
        // In a cluster a dead holder's lock frees itself sooner: the others are waiting for it.
        lockTTL: cluster == nil ? .seconds(60) : .seconds(15), onIssued: onIssued
      ) { name in
        // The node's current certificates (a reload may have replaced the ones this agent started with);
        // loading may be a network round trip, so not on the control loop.
        control.execute {
          let certificates = node.certificates
          DispatchQueue.global().async { certificates.storedCertificateChanged(name) }
        }
      }
      managerStorage = storage
    }
    let ratio = config.global.renewalWindowRatio
    if let manager {
      Task { await manager.manage(names, renewalRatio: ratio) }
      certificates.onDemandIssuer.withLock { issue in
        issue = { name, issuers, obtain in await manager.obtainOnDemand(name, issuers: issuers, obtain: obtain) }
      }
    }
  }

  /// Binds every listener on every worker, runs until SIGTERM/SIGINT has drained the node, and returns
  /// the exit status.
  public func run() throws(UVError) -> Int32 {
    let fileLimit = ProcessSetup.prepare()
    // Signals are watched before any port opens: a SIGHUP or SIGTERM sent as soon as the node answers
    // must find its handler (SIGHUP's default action would kill the process). They are handled once the
    // control loop runs.
    for signal in [SIGTERM, SIGINT] {
      signals.append(SignalWatcher(loop: control, signal: signal) { [unowned self] in self.shutdown(signal: $0) })
    }
    if reader != nil {
      signals.append(SignalWatcher(loop: control, signal: SIGHUP) { [unowned self] _ in self.reload() })
    } else if let cluster {
      // A member's configuration is the cluster's: SIGHUP reads it (and every certificate) again.
      signals.append(SignalWatcher(loop: control, signal: SIGHUP) { _ in cluster.requestReconcile() })
    }
    // The ACME agent is ready before any port opens: the first handshake may need it (on demand).
    answerSharedChallenges()
    manageCertificates()
    let count = config.global.workers ?? ProcessSetup.cpuCount
    let ports = routes.listeners.keys.sorted()
    openFiles = fileLimit
    budget.setLimit(maxConnections(config))
    for index in 0..<count {
      let loop = EventLoop(index: index)
      let worker = Worker(
        loop: loop, routes: routes, logger: Logger(label: "edge.worker.\(index)"), challenges: httpChallenges,
        budget: budget)
      for port in ports { try Self.bind(worker, port: port) }
      workers.append(worker)
    }
    for (index, worker) in workers.enumerated() { worker.loop.runOnNewThread(name: "edge-worker-\(index)") }
    let checkers = HealthCheckers(loop: control, logger: Logger(label: "edge.health"))
    checkers.reconcile(routes)
    healthCheckers = checkers
    upkeep = certificates.startUpkeep()
    if let ca = certificates.localCA {
      logger.info(
        "local CA ready; clients trust it with its root certificate",
        metadata: ["root": "\(ca.directory)/root.crt", "sha256": "\(ca.rootFingerprintSHA256)"])
    }
    logger.info(
      "edge is serving",
      metadata: [
        "workers": "\(count)", "ports": "\(ports.map(String.init).joined(separator: ","))",
        "sites": "\(config.sites.flatMap(\.addresses).map(\.original).joined(separator: " "))",
        "open_files": "\(fileLimit)", "max_connections": "\(budget.limit)",
      ])
    startMetrics(version: buildVersion)
    startAdmin()
    autosave()
    startCluster()
    control.run()
    return 0
  }

  /// `servers { max_connections }`, or its default for the open-file limit.
  private func maxConnections(_ config: EdgeConfig) -> Int {
    config.global.servers.maxConnections
      ?? ConnectionBudget.defaultLimit(openFiles: openFiles, memoryBytes: ProcessInfo.processInfo.physicalMemory)
  }

  /// Binds the dual-stack wildcard address, or IPv4's where IPv6 is unavailable.
  private static func bind(_ worker: Worker, port: Int) throws(UVError) {
    do {
      try worker.listen(on: [(SocketAddress(ip: "::", port: port)!, port)])
    } catch where !error.isAddressInUse {
      try worker.listen(on: [(SocketAddress(ip: "0.0.0.0", port: port)!, port)])
    }
  }

  /// SIGHUP: read the configuration again and, if it is valid, swap it in without closing anything that
  /// is under way. Each worker's next request uses the new route table (requests and tunnels in flight
  /// finish on the one they started with); ports that appear are opened on every worker, ports that go
  /// away stop accepting; certificates, ticket keys and the local CA carry over. A configuration that
  /// does not parse, validate or bind is refused whole and the running one keeps serving.
  private func reload() {
    guard let reader, !shuttingDown else { return }
    do {
      try apply(try reader())
    } catch {
      countReload(applied: false)
      logger.error("reload refused; the running configuration keeps serving", metadata: ["error": "\(error)"])
    }
  }

  /// Swaps in `next` (a reload, or the admin API's `POST /load`), or throws why not; nothing changes then.
  func apply(_ next: EdgeConfig) throws(ConfigError) {
    try swapIn(next)
    countReload(applied: true)
  }

  private func swapIn(_ next: EdgeConfig) throws(ConfigError) {
    guard !shuttingDown else { throw ConfigError("the node is shutting down") }
    try next.validate()
    let nextCertificates = try NodeCertificates(
      config: Self.local(next, cluster), logger: Logger(label: "edge.tls"), previous: certificates, shared: cluster?.storage)
    let nextRoutes = try Self.table(next, nextCertificates, tlsChallenges, telemetry)
    let before = Set(routes.listeners.keys)
    let after = Set(nextRoutes.listeners.keys)
    let opened = after.subtracting(before).sorted()
    let closed = before.subtracting(after).sorted()
    if let taken = opened.first(where: { !TCPListener.canBind(port: $0) }) {
      throw ConfigError("port \(taken) cannot be bound (in use?)")
    }
    if next.global.workers != config.global.workers {
      logger.warning("'workers' changes take effect at the next start, not on reload")
    }
    for worker in workers {
      worker.loop.execute { [logger] in
        for port in opened {
          do { try Self.bind(worker, port: port) } catch {
            logger.error("reload: a worker cannot listen", metadata: ["port": "\(port)", "error": "\(error)"])
          }
        }
        worker.routes = nextRoutes
        for port in closed { worker.stopListening(on: port) }
        worker.reloadedHTTP2(closedPorts: closed)
      }
    }
    let adminChanged = next.global.admin != config.global.admin
    budget.setLimit(maxConnections(next))
    config = next
    routes = nextRoutes
    servingRoutes.withLock { $0 = nextRoutes }
    healthCheckers?.reconcile(nextRoutes)
    if adminChanged { startAdmin() }
    autosave()
    certificates = nextCertificates
    serving.withLock { $0 = nextCertificates.cache }
    upkeep?.cancel()
    upkeep = nextCertificates.startUpkeep()
    answerSharedChallenges()
    manageCertificates()
    logger.info(
      "configuration reloaded",
      metadata: [
        "ports": "\(after.sorted().map(String.init).joined(separator: ","))",
        "opened": "\(opened.map(String.init).joined(separator: ","))",
        "closed": "\(closed.map(String.init).joined(separator: ","))",
        "sites": "\(next.sites.flatMap(\.addresses).map(\.original).joined(separator: " "))",
      ])
  }

  /// A configuration from the admin API (`POST /load`, `/config/`): applied here and, in a cluster,
  /// stored as the cluster's next version, which every other node then applies. When the cluster cannot
  /// store it, this node goes back to the configuration it had and the change is refused: a member never
  /// runs a configuration the others will not get.
  func load(_ next: EdgeConfig) throws(ConfigError) {
    guard let cluster else { return try apply(next) }
    let previous = config
    try apply(next)
    do {
      try cluster.storeConfig(next)
    } catch {
      try? apply(previous)
      throw ConfigError("the cluster did not take the configuration (\(error)); nothing changed")
    }
  }

  /// Joins the cluster's event stream and heartbeat: configurations and certificates other nodes
  /// store are applied and loaded here.
  private func startCluster() {
    guard let cluster else { return }
    let publisher = TLSTelemetryPublisher(telemetry: telemetry, agent: cluster, logger: Logger(label: "edge.telemetry"))
    publisher.start()
    telemetryPublisher = publisher
    let control = self.control
    // `config` and `certificates` are read and replaced on the control loop only; the hops keep it so.
    nonisolated(unsafe) unowned let node = self
    cluster.start(
      ClusterAgent.Hooks(
        apply: { config, _ in
          let refusal = Self.onControl(control) { () -> (any Error)? in
            do { try node.apply(config) } catch { return error }
            return nil
          }
          if let refusal { throw refusal }
        },
        certificateChanged: { name, deleted in
          let certificates = Self.onControl(control) { node.certificates }
          certificates.sharedInvalidate()
          certificates.storedCertificateChanged(name, deleted: deleted)
          // Revoked or deleted elsewhere: the ACME agent looks at storage now instead of at the renewal date.
          if deleted { control.execute { node.manageCertificates() } }
        },
        reconcileCertificates: {
          let certificates = Self.onControl(control) { node.certificates }
          certificates.sharedInvalidate()
          certificates.reloadChangedStoredCertificates()
        },
        certificateCount: { Self.onControl(control) { node.certificates.storedCount } }
      ),
      configVersion: clusterVersion)
  }

  /// Runs `body` on the control loop and waits for its value (never call it on the control loop).
  private static func onControl<T: Sendable>(_ control: EventLoop, _ body: @escaping @Sendable () -> T) -> T {
    let result = Locked<T?>(nil)
    let done = DispatchSemaphore(value: 0)
    control.execute {
      result.withLock { $0 = body() }
      done.signal()
    }
    done.wait()
    return result.withLock { $0! }
  }

  /// The admin endpoint (`admin` option; default localhost:2019, `off` for none). One that cannot bind
  /// is logged and the node serves without it.
  private func startAdmin() {
    admin?.stop()
    admin = nil
    let text = config.global.admin ?? AdminServer.defaultAddress
    guard text != "off" else { return }
    do {
      let server = AdminServer(address: try AdminAddress(parsing: text), node: self, logger: Logger(label: "edge.admin"))
      try server.start(on: control)
      admin = server
      logger.info("admin endpoint listening", metadata: ["address": "\(text)"])
    } catch {
      logger.error("admin endpoint unavailable; the node serves without it", metadata: ["address": "\(text)", "error": "\(error)"])
    }
  }

  /// Graceful shutdown, as on SIGTERM (the admin API's `POST /stop`).
  func stop() { shutdown(signal: SIGTERM) }

  /// The file in storage that holds the last configuration the node ran (`edge run --resume`).
  public static let autosaveName = "autosave.json"

  /// Saves the running configuration (atomically) so `edge run --resume` can start from it; a failure
  /// is logged and changes nothing else.
  private func autosave() {
    let directory = NodeCertificates.storageDirectory(Self.local(config, cluster).global)
    let path = directory + "/" + Self.autosaveName
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
      try config.jsonString(pretty: true).write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
      logger.warning("cannot save the running configuration", metadata: ["path": "\(path)", "error": "\(error)"])
    }
  }

  /// First signal: stop accepting and let requests finish within the grace period. Second: exit now.
  /// Writes the access lines the workers still hold (waits up to a second for them).
  private func flushAccessLogs() {
    let done = DispatchSemaphore(value: 0)
    for worker in workers { worker.loop.execute { worker.flushAccessLog(); done.signal() } }
    for _ in workers { _ = done.wait(timeout: .now() + 1) }
  }

  private func shutdown(signal: Int32) {
    if shuttingDown {
      logger.warning("second signal: exiting without waiting")
      exit(1)
    }
    shuttingDown = true
    admin?.stop()
    healthCheckers?.stopAll()
    telemetryPublisher?.stop()
    cluster?.stop()
    if let manager { Task { await manager.stop() } }
    let grace = config.global.gracePeriod
    logger.info("shutting down: draining", metadata: ["signal": "\(signal)", "grace_period": "\(grace)"])
    for worker in workers { worker.loop.execute { worker.beginDrain() } }
    let deadline = control.now + grace.milliseconds
    let timer = LoopTimer(loop: control)
    shutdownTimer = timer
    timer.start(after: 20, repeat: 50) { [unowned self] in
      let live = self.workers.reduce(0) { $0 + $1.live.load(ordering: .relaxed) }
      if live == 0 {
        self.logger.info("drained; exiting")
        self.flushAccessLogs()
        exit(0)
      }
      if self.control.now >= deadline {
        self.logger.warning("grace period over; closing what is left", metadata: ["open": "\(live)"])
        for worker in self.workers { worker.loop.execute { worker.closeEverything() } }
        timer.start(after: 200) {
          self.logger.info("exiting")
          exit(0)
        }
      }
    }
  }
}
