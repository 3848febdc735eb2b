import Foundation

extension AdminServer {
  /// `GET /telemetry`: the TLS telemetry counters since the node started, and whether the `telemetry`
  /// option is on (off: `"enabled": false`, and nothing new is counted).
  func telemetry(_ node: Node) -> Reply {
    var body: [String: Any] = [
      "enabled": node.config.global.telemetry,
      "since": Int(node.telemetry.started.timeIntervalSince1970),
      "counters": TLSTelemetry.jsonObject(node.telemetry.totals),
    ]
    if let cluster = node.cluster {
      body["cluster"] = cluster.options.keys.cluster
      body["node"] = cluster.options.nodeID
    }
    guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    else { return Reply(500, "cannot encode the telemetry counters\n") }
    return Reply(200, String(decoding: data, as: UTF8.self) + "\n", contentType: "application/json")
  }
}
