import ArgumentParser
import EdgeCluster
import EdgeServer
import Foundation
import Logging

/// `edge telemetry`: the TLS telemetry counters, from a node's admin endpoint (`GET /telemetry`) or, with
/// `--redis`, the cluster's totals in Redis.
struct TelemetryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "telemetry",
    abstract: "Print TLS telemetry: the top fingerprints (JA4), versions, ciphers, ALPN and failure reasons.",
    discussion: "From a running node's admin endpoint, or the cluster's totals with --redis (and --cluster).")
  @Option(help: "The node's admin endpoint.") var address = "localhost:2019"
  @Option(help: "Entries per table (default 10; with --json, every entry unless given).") var top: Int?
  @Flag(help: "Print the counters as JSON.") var json = false
  @OptionGroup(title: "Cluster (the totals of every node, from Redis; no secret needed)")
  var cluster: ClusterConnection

  func run() throws {
    do {
      guard top.map({ $0 > 0 }) ?? true else { throw CLIError("--top must be at least 1") }
      var report = cluster.redis == nil ? try fromNode() : try fromCluster()
      if json {
        if let top {
          for (dimension, keys) in report.counters where dimension != .summary {
            report.counters[dimension] = Self.top(keys, top).reduce(into: [:]) { $0[$1.0] = $1.1 }
          }
        }
        report.object["counters"] = TLSTelemetry.jsonObject(report.counters)
        let data = try JSONSerialization.data(withJSONObject: report.object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
      } else {
        print(TelemetryTables.render(report.title, report.counters, top: top ?? 10))
      }
    } catch let error as ExitCode {
      throw error
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
  }

  struct Report {
    var title: String
    var object: [String: Any]
    var counters: TLSTelemetry.Counts
  }

  private func fromNode() throws -> Report {
    let reply = try AdminClient.send(to: address, method: "GET", path: "/telemetry")
    guard reply.status == 200 else { throw CLIError("the node answered \(reply.status): \(reply.body)") }
    guard let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any],
      let counters = object["counters"] as? [String: Any]
    else { throw CLIError("the node's /telemetry answer is not the expected JSON") }
    let enabled = object["enabled"] as? Bool ?? false
    var title = "node at \(address)" + ((object["node"] as? String).map { " (\($0))" } ?? "")
    if let since = object["since"] as? Int { title += ", since \(Date(timeIntervalSince1970: TimeInterval(since)))" }
    if !enabled { title += "\ntelemetry is off on this node: add `telemetry` to the global options to count handshakes" }
    var result: [String: Any] = ["source": "node", "address": address, "enabled": enabled]
    result["since"] = object["since"]
    result["node"] = object["node"]
    return Report(title: title, object: result, counters: TLSTelemetry.counts(fromJSON: counters))
  }

  private func fromCluster() throws -> Report {
    // Counters are not signed: any secret will do when none is given.
    let secret = try (try? cluster.secret()) ?? ClusterSecret((0..<32).map { _ in UInt8.random(in: 0...255) })
    let agent = try cluster.tool(secret: secret)
    let counters = try TLSTelemetry.clusterTotals(agent)
    let name = try cluster.keys().cluster
    return Report(
      title: "cluster \(name) at \(try cluster.url()) (totals of every node)",
      object: ["source": "cluster", "cluster": name], counters: counters)
  }

  /// The `n` largest counts, largest first (ties by key).
  static func top(_ keys: [String: Int], _ n: Int) -> [(String, Int)] {
    Array(keys.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(n)).map { ($0.key, $0.value) }
  }
}
