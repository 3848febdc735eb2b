import EdgeCore
import EdgeTLS
import Foundation

/// The counters of the `telemetry` option: what clients offer in their ClientHellos, what was
/// negotiated, and why handshakes failed. Counts only: no address, no server name, nothing per client.
///
/// Two copies are kept: `totals` since the node started (`GET /telemetry`), and `pending`, what a
/// cluster member has not added to Redis yet (`TLSTelemetryPublisher`). Workers report from their own
/// threads; one lock guards both.
///
/// Clients choose what is counted (ALPN names, cipher lists, hence fingerprints), so each dimension
/// keeps at most `maxKeys` distinct keys; later ones are counted under `(other)`.
public final class TLSTelemetry: TLSTelemetrySink {
  /// A counted dimension: its JSON key and its Redis hash's last segment.
  public enum Dimension: String, CaseIterable, Sendable {
    /// `client_hellos`, `unparsed`, `completed`, `failed`.
    case summary
    case ja4
    case offeredVersions = "offered_versions"
    case offeredCiphers = "offered_ciphers"
    case offeredGroups = "offered_groups"
    case offeredALPN = "offered_alpn"
    /// `present` or `absent` (the name itself is never kept).
    case sni
    case versions, ciphers, alpn, groups
    /// `full` or `resumed`.
    case resumption
    /// `sent:<alert>(n)`, `received:<alert>(n)`, `no_alert`, `closed_during_handshake`.
    case failures
  }

  /// Dimension → key → count.
  public typealias Counts = [Dimension: [String: Int]]

  public static let maxKeys = 1000
  public static let otherKey = "(other)"

  private struct State {
    var totals: Counts = [:]
    var pending: Counts = [:]
  }

  private let state = Locked(State())
  public let started = Date()

  public init() {}

  /// Every count since the node started.
  public var totals: Counts { state.withLock { $0.totals } }

  /// What was counted since the last call (the publisher's delta), and forgets it.
  func takePending() -> Counts {
    state.withLock { state in
      defer { state.pending = [:] }
      return state.pending
    }
  }

  /// Puts a delta that could not be published back, to go with the next one.
  func restorePending(_ counts: Counts) {
    state.withLock { state in
      for (dimension, keys) in counts {
        for (key, count) in keys { state.pending[dimension, default: [:]][key, default: 0] += count }
      }
    }
  }

  /// Adds one to each (dimension, key).
  func count(_ items: [(Dimension, String)]) {
    state.withLock { state in
      for (dimension, wanted) in items {
        var key = wanted
        if state.totals[dimension]?[key] == nil, state.totals[dimension, default: [:]].count >= Self.maxKeys {
          key = Self.otherKey
        }
        state.totals[dimension, default: [:]][key, default: 0] += 1
        state.pending[dimension, default: [:]][key, default: 0] += 1
      }
    }
  }
}
