import EdgeCluster
import EdgeMetrics

/// The cluster's series. Counters are counted where the events happen; the gauges are copied from
/// `status` just before `/metrics` renders (`collect`).
extension ClusterAgent {
  static let redisConnectedGauge = Families.redisConnected.gauge()
  static let configVersionGauge = Families.configVersion.gauge()
  static let nodesGauge = Families.nodes.gauge()
  static let refusedCounter = Families.eventsRefused.counter()
  static let lagHistogram = Families.propagationLag.histogram()

  static func countSent(_ type: ClusterEvent.Kind) {
    Families.eventsSent.counter([("type", type.rawValue)]).increment()
  }

  static func countReceived(_ type: ClusterEvent.Kind) {
    Families.eventsReceived.counter([("type", type.rawValue)]).increment()
  }

  /// Copies the gauges from the agent's state (no Redis round trip: the member count is the one the
  /// last heartbeat found).
  func collect() {
    let status = self.status
    Self.redisConnectedGauge.set(status.redisConnected ? 1.0 : 0.0)
    Self.configVersionGauge.set(Double(status.configVersion))
    if let members = status.members { Self.nodesGauge.set(Double(members)) }
  }
}
