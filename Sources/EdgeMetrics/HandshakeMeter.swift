import EdgeCore
import Prometheus

/// TLS handshake series: completed ones by what was agreed on, failed ones by the alert edge sent.
public enum HandshakeMeter {
  struct Key: Hashable {
    let version: String
    let cipher: String
    let alpn: String
    let resumed: Bool
  }
  private static let completed = Locked<[Key: Counter]>([:])
  private static let failed = Locked<[Int: Counter]>([:])

  public static func completed(version: String, cipher: String, alpn: String?, resumed: Bool) {
    let key = Key(version: version, cipher: cipher, alpn: alpn ?? "", resumed: resumed)
    let counter = completed.withLock { table in
      if let hit = table[key] { return hit }
      let made = Families.handshakes.counter([
        ("version", version), ("cipher", cipher), ("alpn", alpn ?? "none"), ("resumed", resumed ? "true" : "false"),
      ])
      table[key] = made
      return made
    }
    counter.increment()
  }

  /// A handshake that did not complete; `alert` is the fatal alert edge sent (labelled `name`), nil when
  /// it sent none.
  public static func failed(alert: UInt8?, name: @autoclosure () -> String) {
    let key = alert.map(Int.init) ?? -1
    let counter = failed.withLock { table in
      if let hit = table[key] { return hit }
      let made = Families.handshakeFailures.counter([("alert", alert == nil ? "none" : name())])
      table[key] = made
      return made
    }
    counter.increment()
  }
}
