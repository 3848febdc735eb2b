import EdgeCore
import EdgeHTTP
import EdgeMetrics
import EdgeTLS
import Foundation
import Prometheus

/// The node's side of `/metrics`: reloads counted as they happen, and the values that live in the node
/// (certificates in service, the cluster's state) copied into gauges before each rendering.
extension Node {
  static let reloadsApplied = Families.reloads.counter([("result", "applied")])
  static let reloadsRefused = Families.reloads.counter([("result", "refused")])
  static let lastReload = Families.lastReload.gauge()
  static let certificateCount = Families.certificates.gauge()

  /// Registers the collector (once per node; a later node in the same process replaces it).
  func startMetrics(version: String) {
    EdgeMetrics.bootstrap()
    Families.buildInfo.gauge([("version", version)]).set(1.0)
    Self.lastReload.set(Date().timeIntervalSince1970)
    // Series that exist from the start, at 0, rather than from their first event.
    Worker.registerMetrics()
    _ = (Self.reloadsApplied, Self.reloadsRefused, CertificateManager.ordersIssued, CertificateManager.ordersFailed)
    _ = (CertificateManager.orderDuration, CertificateManager.renewals)
    if cluster != nil {
      _ = (ClusterAgent.redisConnectedGauge, ClusterAgent.configVersionGauge, ClusterAgent.refusedCounter, ClusterAgent.lagHistogram)
    }
    let serving = self.serving
    let servingRoutes = self.servingRoutes
    let cluster = self.cluster
    let expiry = ExpiryGauges()
    let upstreamHealth = UpstreamHealthGauges()
    EdgeMetrics.setCollector("node") {
      let snapshot = serving.withLock { $0 }.snapshot
      Self.certificateCount.set(Double(snapshot.byName.count))
      expiry.update(snapshot.byName.mapValues(\.notAfter))
      upstreamHealth.update(servingRoutes.withLock { $0 }.upstreamStatus())
      cluster?.collect()
    }
  }

  /// A configuration applied, or one refused (unreadable, invalid, or not bindable) by SIGHUP or the
  /// admin endpoint.
  func countReload(applied: Bool) {
    if applied {
      Self.reloadsApplied.increment()
      Self.lastReload.set(Date().timeIntervalSince1970)
    } else {
      Self.reloadsRefused.increment()
    }
  }
}

/// One expiry gauge per name in service; a name that leaves the cache loses its series.
final class ExpiryGauges: Sendable {
  private let gauges = Locked<[String: Gauge]>([:])

  func update(_ notAfter: [String: Int]) {
    gauges.withLock { gauges in
      for (name, gauge) in gauges where notAfter[name] == nil {
        EdgeMetrics.registry.unregisterGauge(gauge)
        gauges[name] = nil
      }
      for (name, seconds) in notAfter {
        let gauge = gauges[name] ?? Families.certificateExpiry.gauge([("name", name)])
        gauges[name] = gauge
        gauge.set(Double(seconds))
      }
    }
  }
}

/// `edge_upstream_healthy`, one series per upstream of the table in service; an upstream a reload
/// removed loses its series.
final class UpstreamHealthGauges: Sendable {
  private let gauges = Locked<[String: Gauge]>([:])

  func update(_ upstreams: [UpstreamStatus]) {
    gauges.withLock { gauges in
      let current = Set(upstreams.map(\.address))
      for (address, gauge) in gauges where !current.contains(address) {
        EdgeMetrics.registry.unregisterGauge(gauge)
        gauges[address] = nil
      }
      for upstream in upstreams {
        let gauge = gauges[upstream.address] ?? Families.upstreamHealthy.gauge([("upstream", upstream.address)])
        gauges[upstream.address] = gauge
        gauge.set(upstream.healthy ? 1.0 : 0.0)
      }
    }
  }
}

extension Node {
  /// One check of `GET /ready`.
  struct ReadinessCheck {
    let name: String
    let ok: Bool
    let detail: String
  }

  /// Whether this node should get traffic: its listeners are open (and not draining for a shutdown), a
  /// configuration is loaded, and its storage answers (the directory is writable; in a cluster, Redis is
  /// connected — without it the node still serves what it has, but cannot get new certificates).
  /// Called on the control loop.
  func readiness() -> [ReadinessCheck] {
    let ports = routes.listeners.keys.sorted().map(String.init).joined(separator: ",")
    var checks = [
      ReadinessCheck(
        name: "listeners", ok: !workers.isEmpty && !shuttingDown,
        detail: shuttingDown ? "shutting down" : workers.isEmpty ? "not listening yet" : "ports \(ports)"),
      ReadinessCheck(name: "config", ok: true, detail: "\(config.sites.count) sites"),
    ]
    if let cluster {
      let status = cluster.status
      checks.append(
        ReadinessCheck(
          name: "storage", ok: status.redisConnected,
          detail: status.redisConnected ? "redis connected" : "redis unreachable since \(Int(status.lastChange.timeIntervalSince1970))"))
    } else {
      let directory = certificates.storage
      let writable = FileManager.default.isWritableFile(atPath: directory)
      checks.append(
        ReadinessCheck(name: "storage", ok: writable, detail: writable ? directory : "\(directory) is not writable"))
    }
    return checks
  }
}
