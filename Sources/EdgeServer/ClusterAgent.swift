import Dispatch
import EdgeCluster
import EdgeConfig
import EdgeCore
import EdgeLoop
import EdgeRedis
import EdgeStorage
import Foundation
import Logging

/// How a node joins a cluster (`edge join`).
public struct ClusterOptions: Sendable {
  public var redis: RedisURL
  public var keys: ClusterKeys
  public var secret: ClusterSecret
  public var nodeID: String
  public var region: String
  /// The node's own directory: the local copy of the cluster's certificates and configuration (what it
  /// serves while Redis is away), and its local CA.
  public var storage: String
  public var version: String

  public init(
    redis: RedisURL, keys: ClusterKeys, secret: ClusterSecret, nodeID: String, region: String, storage: String,
    version: String
  ) {
    self.redis = redis
    self.keys = keys
    self.secret = secret
    self.nodeID = nodeID
    self.region = region
    self.storage = storage
    self.version = version
  }
}

/// A node's link to its cluster: the shared storage (Redis, with a local copy), the events on pub/sub,
/// the shared configuration and the membership heartbeat.
///
/// Redis is reached from a loop of its own (`edge-cluster`); blocking calls (storage, reading or storing
/// the configuration) come from other threads and wait for it there. Events are handled on `work`, a
/// concurrent queue, because each may read Redis.
///
/// What happens when Redis goes away: the node keeps its configuration and every certificate it has
/// (storage reads fall back to the local copy), issuance fails and is retried with backoff, and the
/// loss is logged and shown in `GET /cluster`. When the subscription is back, the node reconciles: it
/// reads the configuration version and every certificate it serves again, since pub/sub dropped
/// whatever was published meanwhile.
public final class ClusterAgent: @unchecked Sendable {
  // Invariant: `heartbeat`, `leaving`, `subscribed`, `needsReconcile` and the clients' callbacks are used
  // on `loop` only; `hooks` is written once, on `loop`, and read there or on `work` (dispatched from
  // `loop`); `state` is locked.
  public let options: ClusterOptions
  public let storage: RedisStorage
  let loop: EventLoop
  private let client: RedisClient
  private let subscriber: RedisSubscriber
  private let logger: Logger
  private let work = DispatchQueue(label: "edge.cluster.events", attributes: .concurrent)
  private var heartbeat: LoopTimer?
  /// Set when the node leaves: the connections closing then are no outage.
  private var leaving = false
  /// The subscription is up (events reach this node).
  private var subscribed = false
  /// Something may have been missed since the last reconcile: done once both connections are up.
  private var needsReconcile = true
  private let started = Date()
  private let state = Locked(Status())
  private var hooks: Hooks?

  /// What the node gives the agent to act on.
  struct Hooks {
    /// Apply this configuration (cluster version `version`); throws when it is refused.
    var apply: @Sendable (EdgeConfig, Int) throws -> Void
    /// A certificate in storage changed (`deleted`: it was removed): load it again.
    var certificateChanged: @Sendable (_ name: String, _ deleted: Bool) -> Void
    /// Events may have been missed: look at every certificate in use again.
    var reconcileCertificates: @Sendable () -> Void
    /// How many certificates from storage the node serves (for the heartbeat).
    var certificateCount: @Sendable () -> Int
  }

  /// What `GET /cluster` shows.
  public struct Status: Sendable {
    public var redisConnected = false
    public var lastChange = Date()
    public var configVersion = 0
    public var eventsSent = 0
    public var eventsReceived = 0
    public var eventsRefused = 0
    /// From an event's timestamp to its certificate being loaded here, milliseconds (last, worst).
    public var lastPropagationMs: Double?
    public var maxPropagationMs: Double?
    /// Nodes with a live heartbeat, as the last heartbeat counted them.
    public var members: Int?
  }

  public var status: Status { state.withLock { $0 } }

  public init(options: ClusterOptions, logger: Logger) {
    self.options = options
    self.logger = logger
    loop = EventLoop(index: -2)
    client = RedisClient(url: options.redis, loop: loop)
    subscriber = RedisSubscriber(url: options.redis, loop: loop)
    storage = RedisStorage(
      client: client, prefix: options.keys.prefix, secret: options.secret,
      mirror: FileStorage(root: options.storage), timeout: .seconds(5))
    loop.runOnNewThread(name: "edge-cluster")
  }

  /// Connects (commands and subscription). Throws only for what can never work (rediss:// files that do
  /// not load).
  public func connect() throws {
    if options.redis.tlsOptions.insecureSkipVerify {
      logger.warning(
        "redis TLS certificate verification is off (insecure=1): anyone on the path can read and change cluster traffic",
        metadata: ["redis": "\(options.redis)"])
    }
    let client = self.client
    let result = Locked<RedisError?>(nil)
    let done = DispatchSemaphore(value: 0)
    loop.execute { [self] in
      client.onStateChange = { [weak self] change in self?.connectionChanged(change) }
      do throws(RedisError) {
        try client.connect()
      } catch {
        result.withLock { $0 = error }
      }
      done.signal()
    }
    done.wait()
    if let error = result.withLock({ $0 }) { throw error }
  }

  /// Waits up to `timeout` for the command connection.
  public func waitForRedis(timeout: Duration) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if state.withLock({ $0.redisConnected }) { return true }
      usleep(20_000)
    }
    return state.withLock { $0.redisConnected }
  }

  private func connectionChanged(_ change: RedisConnectionState) {
    guard !leaving else { return }
    let wasConnected = state.withLock { status -> Bool in
      defer {
        status.redisConnected = change == .connected
        status.lastChange = Date()
      }
      return status.redisConnected
    }
    switch change {
    case .connected:
      if !wasConnected { logger.info("connected to redis", metadata: ["redis": "\(options.redis)"]) }
      reconcileIfReady()
    case .disconnected(let reason):
      needsReconcile = true
      logger.warning(
        "redis is unreachable: serving the cached configuration and certificates; certificate issuance is postponed until it is back",
        metadata: ["redis": "\(options.redis)", "reason": "\(reason)"])
    }
  }

  // MARK: Configuration

  /// The cluster's configuration as stored in Redis (version, config); nil when it has none. Throws when
  /// Redis cannot be asked or the stored value was not written by a holder of the cluster secret.
  public func fetchConfig() throws -> (version: Int, config: EdgeConfig)? {
    let reply = try storage.command(["HMGET", options.keys.config, "version", "json", "sig"].map { Array($0.utf8) })
    guard let fields = reply.array, fields.count == 3, let versionText = fields[0].string, let version = Int(versionText),
      let json = fields[1].bytes
    else { return nil }
    guard let signature = fields[2].bytes, options.secret.verify(json, hexSignature: signature) else {
      throw ClusterError("the configuration in redis (version \(version)) is not signed with this cluster's secret; refusing it")
    }
    do {
      return (version, try EdgeConfig(json: String(decoding: json, as: UTF8.self), file: "cluster configuration v\(version)"))
    } catch {
      throw ClusterError("the configuration in redis (version \(version)) does not load: \(error)")
    }
  }

  /// Stores `config` as the cluster's next version, tells the other nodes, and returns the version.
  /// `onlyIfNone`: stores it only when the cluster has no configuration yet (returns nil otherwise), as
  /// version `version` when given (a node putting back what an emptied Redis lost), else 1.
  @discardableResult
  public func storeConfig(_ config: EdgeConfig, onlyIfNone: Bool = false, version wanted: Int? = nil) throws -> Int? {
    let json = Array(config.jsonString(pretty: false).utf8)
    let signature = Array(try options.secret.signHex(json).utf8)
    let script = """
      if ARGV[5] == '1' and redis.call('HEXISTS', KEYS[1], 'version') == 1 then return 0 end
      local v
      if ARGV[6] ~= '' then
        v = tonumber(ARGV[6])
        redis.call('HSET', KEYS[1], 'version', v)
      else
        v = redis.call('HINCRBY', KEYS[1], 'version', 1)
      end
      redis.call('HSET', KEYS[1], 'json', ARGV[1], 'sig', ARGV[2], 'node', ARGV[3], 'ts', ARGV[4])
      return v
      """
    let reply = try storage.command(
      [Array("EVAL".utf8), Array(script.utf8), Array("1".utf8), Array(options.keys.config.utf8), json, signature,
       Array(options.nodeID.utf8), Array(String(Date().timeIntervalSince1970).utf8), Array((onlyIfNone ? "1" : "0").utf8),
       Array((wanted.map(String.init) ?? "").utf8)])
    guard let version = reply.integer.map(Int.init) else { throw ClusterError("storing the configuration: unexpected reply \(reply)") }
    if version == 0 { return nil }
    configApplied(version, config)
    publish(ClusterEvent(type: .configChanged, version: String(version), node: options.nodeID))
    logger.info("configuration stored in the cluster", metadata: ["version": "\(version)"])
    return version
  }

  /// Records that this node runs cluster configuration `version`, and keeps a local copy so a restart
  /// while Redis is away starts from it.
  public func configApplied(_ version: Int, _ config: EdgeConfig) {
    state.withLock { $0.configVersion = max($0.configVersion, version) }
    let copy: [String: Any] = ["version": version, "json": config.jsonString(pretty: false)]
    guard let data = try? JSONSerialization.data(withJSONObject: copy) else { return }
    do {
      try FileManager.default.createDirectory(
        atPath: options.storage, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
      try data.write(to: URL(fileURLWithPath: localConfigPath), options: .atomic)
    } catch {
      logger.warning("cannot keep a local copy of the cluster configuration", metadata: ["error": "\(error)"])
    }
  }

  var localConfigPath: String { options.storage + "/cluster-config.json" }

  /// The configuration this node last ran, from its local copy.
  public func localConfig() -> (version: Int, config: EdgeConfig)? {
    guard let data = FileManager.default.contents(atPath: localConfigPath),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let version = object["version"] as? Int, let json = object["json"] as? String,
      let config = try? EdgeConfig(json: json, file: localConfigPath)
    else { return nil }
    return (version, config)
  }

  /// Reads the cluster's configuration and applies it if it is newer than the one running.
  private func catchUpConfig() {
    guard let hooks else { return }
    do {
      guard let (version, config) = try fetchConfig() else {
        // Redis lost everything (restarted without persistence): the configuration this node runs is
        // put back, under its version, so the other nodes and new ones find it.
        if let (version, config) = localConfig(), try storeConfig(config, onlyIfNone: true, version: version) != nil {
          logger.warning("the cluster had no configuration (redis was emptied): put back this node's", metadata: ["version": "\(version)"])
        }
        return
      }
      guard version > state.withLock({ $0.configVersion }) else { return }
      try hooks.apply(config, version)
      configApplied(version, config)
      logger.info("applied the cluster's configuration", metadata: ["version": "\(version)"])
    } catch {
      logger.error("cannot apply the cluster's configuration; the running one keeps serving", metadata: ["error": "\(error)"])
    }
  }

  // MARK: Running

  /// Starts listening to events and sending heartbeats, with what the node gives it to act on.
  func start(_ hooks: Hooks, configVersion: Int) {
    state.withLock { $0.configVersion = configVersion }
    loop.execute { [self] in
      self.hooks = hooks
      subscriber.onMessage = { [weak self] _, payload in self?.received(payload) }
      subscriber.onResubscribed = { [weak self] _ in
        self?.subscribed = true
        self?.reconcileIfReady()
      }
      subscriber.onStateChange = { [weak self] change in
        guard let self, case .disconnected = change else { return }
        subscribed = false
        needsReconcile = true
      }
      do { try subscriber.connect() } catch { logger.error("cannot subscribe to cluster events", metadata: ["error": "\(error)"]) }
      var first = true
      subscriber.subscribe([options.keys.events]) { [weak self] in
        guard let self, first else { return }
        first = false
        subscribed = true
        publish(ClusterEvent(type: .nodeJoined, node: options.nodeID))
        reconcileIfReady()
      }
      let timer = LoopTimer(loop: loop)
      heartbeat = timer
      timer.start(after: 0, repeat: 5_000) { [weak self] in self?.beat() }
    }
  }

  /// Once the subscription and the command connection are both up after an outage (or at start), reads
  /// what the missed events would have announced. Either may come back first (each has its own backoff):
  /// reading before both are up would fail, or miss what is published meanwhile.
  private func reconcileIfReady() {
    guard subscribed, needsReconcile, client.isConnected, hooks != nil else { return }
    needsReconcile = false
    reconcile()
  }

  /// Reads the cluster's configuration and certificates again now (SIGHUP), once Redis is reachable.
  public func requestReconcile() {
    loop.execute { [self] in
      needsReconcile = true
      reconcileIfReady()
    }
  }

  /// Missed events: read the configuration version and every certificate in use again.
  private func reconcile() {
    guard let hooks else { return }
    work.async { [self] in
      logger.info("reconciling with the cluster: reading the configuration version and the certificates in use again")
      catchUpConfig()
      hooks.reconcileCertificates()
    }
  }

  /// The membership heartbeat: `node:<id>` expires 15 s after the last one.
  private func beat() {
    guard let hooks else { return }
    // The count comes from the control loop, which may itself be waiting for this loop (storing a
    // configuration): gathered on `work`, never here.
    work.async { [self] in
      let count = hooks.certificateCount()
      loop.execute { [self] in send(heartbeat: count) }
      // Only the count, for /metrics: the keys, not every member's hash.
      if let members = try? Set(memberKeys()).count { state.withLock { $0.members = members } }
    }
  }

  private func send(heartbeat certificates: Int) {
    let status = status
    let fields: [String] = [
      "id", options.nodeID, "region", options.region, "version", options.version,
      "config_version", String(status.configVersion), "certificates", String(certificates),
      "started", String(Int(started.timeIntervalSince1970)), "seen", String(Int(Date().timeIntervalSince1970)),
      "pid", String(getpid()),
    ]
    let key = options.keys.node(options.nodeID)
    client.send(["HSET", key] + fields) { _ in }
    client.send(["EXPIRE", key, "15"]) { _ in }
  }

  /// Publishes `event` (any thread). Lost when Redis is away: peers reconcile when it is back.
  public func publish(_ event: ClusterEvent) {
    guard let payload = try? event.encoded(secret: options.secret) else { return }
    let channel = Array(options.keys.events.utf8)
    loop.execute { [self] in
      client.send([Array("PUBLISH".utf8), channel, payload]) { [weak self] result in
        if case .success(.integer) = result {
          self?.state.withLock { $0.eventsSent += 1 }
          Self.countSent(event.type)
        }
      }
    }
  }

  /// Publishes `event` and waits until Redis has it (a command-line tool that exits right after).
  public func publishNow(_ event: ClusterEvent) throws {
    _ = try storage.command([Array("PUBLISH".utf8), Array(options.keys.events.utf8), try event.encoded(secret: options.secret)])
  }

  private func received(_ payload: [UInt8]) {
    let event: ClusterEvent
    do {
      event = try ClusterEvent.decode(payload, secret: options.secret)
    } catch {
      state.withLock { $0.eventsRefused += 1 }
      Self.refusedCounter.increment()
      logger.warning("cluster event refused", metadata: ["error": "\(error)"])
      return
    }
    guard event.node != options.nodeID else { return }
    state.withLock { $0.eventsReceived += 1 }
    Self.countReceived(event.type)
    guard let hooks else { return }
    switch event.type {
    case .certificateIssued, .certificateRenewed, .certificateDeleted:
      guard let name = event.name else { return }
      work.async { [self] in
        hooks.certificateChanged(name, event.type == .certificateDeleted)
        let lag = (Date().timeIntervalSince1970 - event.ts) * 1000
        Self.lagHistogram.record(max(lag, 0) / 1000)
        state.withLock {
          $0.lastPropagationMs = lag
          $0.maxPropagationMs = max($0.maxPropagationMs ?? 0, lag)
        }
        logger.info(
          "certificate changed on another node; loaded it from the cluster",
          metadata: ["name": "\(name)", "event": "\(event.type.rawValue)", "node": "\(event.node)", "lag_ms": "\(Int(lag))"])
      }
    case .configChanged:
      work.async { [self] in catchUpConfig() }
    case .nodeJoined, .nodeLeft:
      logger.info("cluster member \(event.type == .nodeJoined ? "joined" : "left")", metadata: ["node": "\(event.node)"])
    }
  }

  /// Leaving: says so, removes the heartbeat, closes the connections (waits up to a second for that).
  public func stop() {
    publish(ClusterEvent(type: .nodeLeft, node: options.nodeID))
    let done = DispatchSemaphore(value: 0)
    loop.execute { [self] in
      heartbeat?.close()
      heartbeat = nil
      client.send(["DEL", options.keys.node(options.nodeID)]) { _ in done.signal() }
    }
    _ = done.wait(timeout: .now() + 1)
    loop.execute { [self] in
      leaving = true
      subscriber.close()
      client.close()
    }
  }

  // MARK: Members

  /// One heartbeat as stored.
  public struct Member: Sendable {
    public var fields: [String: String]
    public var id: String { fields["id"] ?? "?" }
  }

  /// Every node whose heartbeat has not expired, sorted by id.
  public func members() throws -> [Member] {
    var members: [Member] = []
    for key in try memberKeys().sorted() {
      let reply = try storage.command(["HGETALL", key].map { Array($0.utf8) })
      let flat = (reply.array ?? []).compactMap(\.string)
      guard flat.count >= 2 else { continue }
      var fields: [String: String] = [:]
      for index in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[index]] = flat[index + 1] }
      members.append(Member(fields: fields))
    }
    return members.sorted { $0.id < $1.id }
  }

  /// The heartbeat keys alive now (a SCAN, no reads of the hashes).
  func memberKeys() throws -> [String] {
    var cursor = "0"
    var keys: [String] = []
    repeat {
      let reply = try storage.command(["SCAN", cursor, "MATCH", options.keys.nodePattern, "COUNT", "200"].map { Array($0.utf8) })
      guard let parts = reply.array, parts.count == 2, let next = parts[0].string else { break }
      cursor = next
      keys += (parts[1].array ?? []).compactMap(\.string)
    } while cursor != "0"
    return keys
  }
}

public struct ClusterError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
