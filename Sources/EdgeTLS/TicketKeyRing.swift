import EdgeCore

/// The session-ticket keys of one listener (or of a whole cluster): the newest seals new tickets, the
/// older ones still open tickets they sealed, so clients resume across a rotation.
///
/// Rotation: call `rotate()` on a timer (for example every 12 hours, keeping 3 keys: tickets live up to a
/// day). Cluster sharing, later: one node rotates under a storage lock, writes the serialized keys
/// (`keys.map(\.bytes)`, newest first) to cluster storage (`tls/ticket-keys`), and publishes an event;
/// every node (that one too) then calls `install(_:)` with what storage holds. A node that restarts
/// installs the stored keys before listening. Ticket keys are secrets: storage must be as protected as
/// private keys.
public final class TicketKeyRing: Sendable {
  /// Newest first; never empty.
  private let state: Locked<[TicketKey]>
  /// How many keys are kept (the newest seals, all open).
  public let capacity: Int

  /// A ring with one fresh random key (suits a single node).
  public init(capacity: Int = 3) {
    precondition(capacity >= 1, "a ticket key ring needs room for one key")
    self.capacity = capacity
    state = Locked([TicketKey.random()])
  }

  /// Newest first.
  public var keys: [TicketKey] { state.withLock { $0 } }

  /// Seals new tickets with a fresh random key; drops the oldest beyond `capacity`.
  public func rotate() {
    let fresh = TicketKey.random()
    state.withLock { keys in
      keys.insert(fresh, at: 0)
      if keys.count > capacity { keys.removeLast(keys.count - capacity) }
    }
  }

  /// Replaces the keys with `keys` (newest first), e.g. the cluster's shared set. Ignores an empty list.
  public func install(_ keys: [TicketKey]) {
    guard !keys.isEmpty else { return }
    let kept = Array(keys.prefix(capacity))
    state.withLock { $0 = kept }
  }

  /// The key that seals new tickets.
  var sealingKey: TicketKey { state.withLock { $0[0] } }

  /// The key named `name`, and whether it is the newest (an older one still opens, but the client should
  /// get a fresh ticket).
  func key(named name: UnsafeRawBufferPointer) -> (key: TicketKey, isNewest: Bool)? {
    state.withLock { keys in
      for (index, key) in keys.enumerated() where key.name.elementsEqual(name) {
        return (key, index == 0)
      }
      return nil
    }
  }
}
