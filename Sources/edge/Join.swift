import ArgumentParser
import EdgeCluster
import EdgeConfig
import EdgeCore
import EdgeRedis
import EdgeServer
import Foundation
import Glibc
import Logging

/// What `edge join` and `edge cluster` need to reach a cluster.
struct ClusterConnection: ParsableArguments {
  @Option(help: "The cluster's Redis: redis://[user:password@]host[:port][/db], or rediss://…[?ca=…&cert=…&key=…&sni=…] for TLS.")
  var redis: String?

  @Option(help: "The cluster's name: several clusters can share one Redis.")
  var cluster = "default"

  @Option(
    help: ArgumentHelp(
      "A file holding the cluster secret (32 bytes or more, the same on every node).",
      discussion: "Without it, the secret is read from the environment variable EDGE_CLUSTER_SECRET."))
  var secretFile: String?

  func url() throws -> RedisURL {
    guard let redis else { throw CLIError("give the cluster's Redis with --redis redis://host:port") }
    do { return try RedisURL(parsing: redis) } catch { throw CLIError("--redis: \(error)") }
  }

  /// A connected agent for a command-line tool (not a member: no heartbeat, no events). `secret`: the
  /// one to use instead of the cluster's (for reading what is not signed).
  func tool(secret given: ClusterSecret? = nil) throws -> ClusterAgent {
    let options = ClusterOptions(
      redis: try url(), keys: try keys(), secret: try given ?? secret(), nodeID: "edge-cli", region: "-",
      storage: NSTemporaryDirectory() + "edge-cli-\(getpid())", version: EdgeVersion.current)
    var logger = Logger(label: "edge.cluster")
    logger.logLevel = .error
    let agent = ClusterAgent(options: options, logger: logger)
    try agent.connect()
    guard agent.waitForRedis(timeout: .seconds(5)) else { throw CLIError("cannot reach \(options.redis)") }
    return agent
  }

  func keys() throws -> ClusterKeys {
    do { return try ClusterKeys(cluster: cluster) } catch { throw CLIError("--cluster: \(error)") }
  }

  func secret() throws -> ClusterSecret {
    if let secretFile {
      do { return try ClusterSecret(file: secretFile) } catch { throw CLIError("--secret-file \(secretFile): \(error)") }
    }
    guard let text = ProcessInfo.processInfo.environment["EDGE_CLUSTER_SECRET"], !text.isEmpty else {
      throw CLIError("give the cluster secret with --secret-file or EDGE_CLUSTER_SECRET (e.g. `openssl rand -base64 48`)")
    }
    do {
      return try ClusterSecret(Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8))
    } catch {
      throw CLIError("EDGE_CLUSTER_SECRET: \(error)")
    }
  }
}

struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// `edge join`: a node that is a member of a cluster. Its configuration, certificates, ACME accounts,
/// locks and challenge answers are the cluster's, in Redis; it keeps a local copy of what it serves so
/// it goes on serving (and can restart) while Redis is away.
struct Join: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a node as a member of a cluster coordinated through Redis, until SIGTERM or SIGINT.")

  @OptionGroup var connection: ClusterConnection

  @Option(help: "This node's id in the cluster (default: the host name).")
  var nodeId: String?

  @Option(help: "The region this node runs in (shown in `edge cluster status`).")
  var region = "default"

  @Option(help: "The node's own directory: its copy of the cluster's certificates and configuration, its local CA.")
  var storage: String?

  @Option(
    name: .shortAndLong,
    help: "A Caddyfile (or .json) to start the cluster with when it has no configuration yet; otherwise the cluster's is used.")
  var config: String?

  func run() throws {
    let agent: ClusterAgent
    let seed: EdgeConfig?
    do {
      seed = try config.map { path throws(ConfigError) in try ConfigOptions.read(path) }
      EdgeLogging.bootstrap(level: seed.flatMap { Logger.Level(rawValue: $0.global.logLevel) } ?? .info)
      let nodeID = nodeId ?? Self.hostName()
      guard nodeID.range(of: "^[A-Za-z0-9._-]{1,64}$", options: .regularExpression) != nil else {
        throw CLIError("--node-id '\(nodeID)': use 1 to 64 letters, digits, '.', '_' or '-'")
      }
      let directory = storage ?? NodeCertificates.storageDirectory(seed?.global ?? GlobalOptions())
      let options = ClusterOptions(
        redis: try connection.url(), keys: try connection.keys(), secret: try connection.secret(), nodeID: nodeID,
        region: region, storage: directory, version: EdgeVersion.current)
      agent = ClusterAgent(options: options, logger: Logger(label: "edge.cluster"))
      try agent.connect()
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
    let logger = Logger(label: "edge")
    let (config, version) = Self.startingConfig(agent, seed: seed, source: config, logger: logger)
    logger.info(
      "joining the cluster",
      metadata: [
        "cluster": "\(agent.options.keys.cluster)", "node": "\(agent.options.nodeID)", "region": "\(region)",
        "redis": "\(agent.options.redis)", "config_version": "\(version)", "storage": "\(agent.options.storage)",
      ])
    do {
      let node = try Node(config: config, logger: logger, cluster: agent, clusterVersion: version)
      node.buildVersion = EdgeVersion.current
      throw ExitCode(try node.run())
    } catch let error as ExitCode {
      throw error
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
  }

  /// The configuration to start with: the cluster's; else (a new cluster) the `--config` file, stored as
  /// its first version; else, while Redis cannot be reached, the copy this node kept of the cluster's
  /// last one. Without any of them, waits for one to appear.
  static func startingConfig(_ agent: ClusterAgent, seed: EdgeConfig?, source: String?, logger: Logger) -> (EdgeConfig, Int) {
    var waitingSaid = false
    while true {
      if agent.waitForRedis(timeout: .seconds(5)) {
        do {
          if let (version, config) = try agent.fetchConfig() {
            if seed != nil { logger.notice("the cluster has a configuration already; \(source ?? "--config") is not used", metadata: ["version": "\(version)"]) }
            agent.configApplied(version, config)
            return (config, version)
          }
          if let seed, let version = try agent.storeConfig(seed, onlyIfNone: true) {
            logger.info("the cluster had no configuration: started it with \(source ?? "--config")", metadata: ["version": "\(version)"])
            return (seed, version)
          }
          if seed != nil { continue }  // another node stored one in between: take it
        } catch {
          logger.error("cannot read the cluster's configuration", metadata: ["error": "\(error)"])
        }
      } else if let (version, config) = agent.localConfig() {
        logger.warning(
          "redis is unreachable: starting from this node's copy of the cluster configuration",
          metadata: ["version": "\(version)", "redis": "\(agent.options.redis)"])
        return (config, version)
      }
      if !waitingSaid {
        logger.notice(
          "waiting for a configuration: the cluster has none yet (start a node with --config, or POST /load to one), or redis is unreachable")
        waitingSaid = true
      }
      sleep(2)
    }
  }

  static func hostName() -> String {
    var host = [CChar](repeating: 0, count: 256)
    gethostname(&host, host.count)
    return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// `edge cluster status`: the members whose heartbeat is current.
struct ClusterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cluster", abstract: "Look at a cluster through its Redis.", subcommands: [ClusterStatus.self])
}

struct ClusterStatus: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Print the cluster's members (their heartbeats) and its configuration version.")

  @OptionGroup var connection: ClusterConnection

  func run() throws {
    do {
      let agent = try connection.tool()
      let options = agent.options
      let configVersion = (try? agent.fetchConfig())??.version
      let members = try agent.members()
      let now = Int(Date().timeIntervalSince1970)
      var rows = [["NODE", "REGION", "VERSION", "CONFIG", "CERTS", "UPTIME", "SEEN"]]
      for member in members {
        let f = member.fields
        let started = Int(f["started"] ?? "") ?? now
        let seen = Int(f["seen"] ?? "") ?? now
        rows.append([
          member.id, f["region"] ?? "-", f["version"] ?? "-", f["config_version"] ?? "-", f["certificates"] ?? "-",
          Self.duration(now - started), "\(max(0, now - seen))s ago",
        ])
      }
      let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
      print("cluster \(options.keys.cluster) at \(options.redis): configuration version \(configVersion.map(String.init) ?? "none"), \(members.count) node(s)")
      for row in rows {
        print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
      }
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
  }

  static func duration(_ seconds: Int) -> String {
    let seconds = max(0, seconds)
    if seconds < 120 { return "\(seconds)s" }
    if seconds < 7200 { return "\(seconds / 60)m" }
    if seconds < 172_800 { return "\(seconds / 3600)h" }
    return "\(seconds / 86400)d"
  }
}
