import RedisTestSupport
import EdgeCluster
import EdgeRedis
import EdgeStorage
import Foundation

/// A fresh redis-server and the nodes of one cluster on it: each node a `RedisStorage` with a client of its
/// own, as on separate machines.
final class TestCluster: @unchecked Sendable {
  // Invariant: `clients` is touched only by `node` and `close`, which a test calls from one task.
  static let prefix = "edge:test:"
  static let secret = cluster("a cluster secret of well over thirty-two bytes")
  static let otherSecret = cluster("another cluster's secret, also long enough......")

  let server: RedisServer
  private var clients: [RedisClient] = []

  init() throws {
    server = try RedisServer()
  }

  /// A node whose client has connected.
  func node(
    prefix: String = TestCluster.prefix, secret: ClusterSecret = TestCluster.secret,
    mirror: (any CertificateStorage)? = nil, timeout: Duration = .seconds(5)
  ) async throws -> RedisStorage {
    let (client, _) = try await connectedClient(server.url)
    clients.append(client)
    return RedisStorage(client: client, prefix: prefix, secret: secret, mirror: mirror, timeout: timeout)
  }

  /// Closes every node's client (they would otherwise keep reconnecting to a server that is gone).
  func close() async throws {
    let clients = self.clients
    self.clients = []
    try await onLoop { for client in clients { client.close() } }
  }

  private static func cluster(_ text: String) -> ClusterSecret {
    do {
      return try ClusterSecret(Array(text.utf8))
    } catch {
      fatalError("test secret refused: \(error)")
    }
  }
}

/// A fresh directory for a mirror, removed when the value goes away.
final class TemporaryDirectory: Sendable {
  let path = FileManager.default.temporaryDirectory.path + "/edge-cluster-tests-" + UUID().uuidString

  var storage: FileStorage { FileStorage(root: path + "/mirror") }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Whether `body` threw `StorageError.io`.
func throwsIO(_ body: () throws -> Void) -> Bool {
  do {
    try body()
    return false
  } catch StorageError.io {
    return true
  } catch {
    return false
  }
}

/// The text of a bulk reply, or a description of what came instead.
func text(_ reply: RedisReply) -> String {
  reply.string ?? "\(reply)"
}

/// Runs `body`, which blocks, on a thread of its own, so that a test waiting for Redis does not hold one
/// of the few threads of the task pool that the other tests (and their timers) need.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  let result: Result<T, any Error> = await withCheckedContinuation { continuation in
    let thread = Thread { continuation.resume(returning: Result { try body() }) }
    thread.start()
  }
  return try result.get()
}
