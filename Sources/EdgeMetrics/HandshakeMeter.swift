import Prometheus
import Synchronization

/// TLS handshake series: completed ones by what was agreed on, failed ones by the alert edge sent.
public enum HandshakeMeter {
  struct Key: Hashable {
    let version: String
    let cipher: String
    let alpn: String
    let resumed: Bool
  }
  private static let completed = Mutex<[Key: Counter]>([:])
  private static let failed = Mutex<[Int: Counter]>([:])

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

  /// A handshake that did not complete; `alert` is the fatal alert edge sent, nil when it sent none.
  public static func failed(alert: UInt8?) {
    let key = alert.map(Int.init) ?? -1
    let counter = failed.withLock { table in
      if let hit = table[key] { return hit }
      let made = Families.handshakeFailures.counter([("alert", alert.map(alertName) ?? "none")])
      table[key] = made
      return made
    }
    counter.increment()
  }

  /// RFC 8446 §6 and RFC 7301 alert names; unknown numbers as `alert_<n>`.
  public static func alertName(_ alert: UInt8) -> String {
    switch alert {
    case 0: "close_notify"
    case 10: "unexpected_message"
    case 20: "bad_record_mac"
    case 22: "record_overflow"
    case 40: "handshake_failure"
    case 42: "bad_certificate"
    case 43: "unsupported_certificate"
    case 44: "certificate_revoked"
    case 45: "certificate_expired"
    case 46: "certificate_unknown"
    case 47: "illegal_parameter"
    case 48: "unknown_ca"
    case 49: "access_denied"
    case 50: "decode_error"
    case 51: "decrypt_error"
    case 70: "protocol_version"
    case 71: "insufficient_security"
    case 80: "internal_error"
    case 86: "inappropriate_fallback"
    case 90: "user_canceled"
    case 109: "missing_extension"
    case 110: "unsupported_extension"
    case 112: "unrecognized_name"
    case 113: "bad_certificate_status_response"
    case 115: "unknown_psk_identity"
    case 116: "certificate_required"
    case 120: "no_application_protocol"
    default: "alert_\(alert)"
    }
  }
}
