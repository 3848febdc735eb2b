/// Where TLS sessions report their handshakes when telemetry is on (`TLSConfiguration.telemetry`):
/// at most one `offered` and one outcome per connection, called on the connection's loop (so from
/// several threads at once). Nothing about the client beyond its hello is passed: no address, no name.
public protocol TLSTelemetrySink: AnyObject, Sendable {
  /// The ClientHello as sent; nil when the first bytes were not one this parser reads.
  func offered(_ hello: ClientHello?)
  func negotiated(_ negotiation: TLSNegotiation)
  func failed(_ failure: TLSHandshakeFailureKind)
}

/// What a completed handshake agreed on, named as `TLSNames` names what was offered.
public struct TLSNegotiation: Sendable, Equatable {
  public var version: String
  public var cipher: String
  /// The ALPN protocol selected, nil when none was.
  public var applicationProtocol: String?
  /// The key-exchange group (OpenSSL's name), nil when there was none (a resumed TLS 1.2 session).
  public var group: String?
  public var resumed: Bool

  public init(version: String, cipher: String, applicationProtocol: String?, group: String?, resumed: Bool) {
    self.version = version
    self.cipher = cipher
    self.applicationProtocol = applicationProtocol
    self.group = group
    self.resumed = resumed
  }
}

/// Why a handshake did not complete.
public enum TLSHandshakeFailureKind: Sendable, Equatable, CustomStringConvertible {
  /// Edge sent this fatal alert.
  case sentAlert(UInt8)
  /// The client sent this alert.
  case receivedAlert(UInt8)
  /// The handshake failed without an alert either way (e.g. a record that does not parse).
  case noAlert
  /// The connection closed before the handshake ended.
  case closed

  /// `sent:protocol_version(70)`, `received:unknown_ca(48)`, `no_alert`, `closed_during_handshake`.
  public var description: String {
    switch self {
    case .sentAlert(let code): "sent:" + TLSNames.alert(code)
    case .receivedAlert(let code): "received:" + TLSNames.alert(code)
    case .noAlert: "no_alert"
    case .closed: "closed_during_handshake"
    }
  }
}
