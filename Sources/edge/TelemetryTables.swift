import EdgeServer
import Foundation

/// `edge telemetry`'s text output: a summary line, then one table per dimension, largest counts first.
enum TelemetryTables {
  static let sections: [(TLSTelemetry.Dimension, String)] = [
    (.ja4, "JA4 FINGERPRINT"), (.offeredVersions, "OFFERED VERSION"), (.versions, "NEGOTIATED VERSION"),
    (.offeredCiphers, "OFFERED CIPHER"), (.ciphers, "NEGOTIATED CIPHER"), (.offeredALPN, "OFFERED ALPN"),
    (.alpn, "NEGOTIATED ALPN"), (.offeredGroups, "OFFERED GROUP"), (.groups, "NEGOTIATED GROUP"), (.sni, "SNI"),
    (.resumption, "RESUMPTION"), (.failures, "FAILURE"),
  ]

  static func render(_ title: String, _ counts: TLSTelemetry.Counts, top: Int) -> String {
    let summary = counts[.summary] ?? [:]
    var lines = [
      "TLS telemetry of \(title)",
      "client hellos \(summary["client_hellos"] ?? 0) (unparsed \(summary["unparsed"] ?? 0)), "
        + "completed \(summary["completed"] ?? 0), failed \(summary["failed"] ?? 0)",
    ]
    for (dimension, heading) in sections {
      let keys = counts[dimension] ?? [:]
      guard !keys.isEmpty else { continue }
      let total = denominator(dimension, summary) ?? keys.values.reduce(0, +)
      let rows = TelemetryCommand.top(keys, top)
      let width = max(heading.count, rows.map(\.0.count).max() ?? 0)
      lines.append("")
      lines.append(heading.padding(toLength: width, withPad: " ", startingAt: 0) + "  COUNT   SHARE")
      for (key, count) in rows {
        let share = String(format: "%5.1f%%", Double(count) * 100 / Double(max(total, 1)))
        let number = String(count)
        lines.append(
          key.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
            + String(repeating: " ", count: max(0, 5 - number.count)) + number + "  " + share)
      }
      if keys.count > rows.count { lines.append("… \(keys.count - rows.count) more") }
    }
    return lines.joined(separator: "\n")
  }

  /// What a share is of: hellos read for what was offered (a hello offers several ciphers), completed
  /// handshakes for what was negotiated, failed ones for failures.
  static func denominator(_ dimension: TLSTelemetry.Dimension, _ summary: [String: Int]) -> Int? {
    switch dimension {
    case .ja4, .sni, .offeredVersions, .offeredCiphers, .offeredGroups, .offeredALPN:
      return (summary["client_hellos"] ?? 0) - (summary["unparsed"] ?? 0)
    case .versions, .ciphers, .alpn, .groups, .resumption: return summary["completed"]
    case .failures: return summary["failed"]
    case .summary: return nil
    }
  }
}
