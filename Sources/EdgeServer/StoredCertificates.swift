import EdgeCluster
import EdgeCore
import EdgeStorage
import EdgeTLS
import Foundation

/// A certificate read from storage, with what tells later whether storage has a newer one.
struct StoredCertificate: Sendable {
  let key: CertifiedKey
  /// Where its chain is: a file path, or a storage key.
  let id: String
  /// The chain's version when it was read (modification time in nanoseconds); nil when unknown.
  let stamp: Int?
  /// The chain as stored, for the OCSP keeper.
  let chainPEM: String
}

/// Where `NodeCertificates` reads the certificates the ACME agent (or an operator) put in storage: the
/// node's own directory (`edge run`), or the cluster's shared storage (`edge join`).
protocol StoredCertificates: Sendable {
  /// Where a name's chain is expected, for messages (`/var/lib/edge/certificates/a.example.crt`).
  func expectedLocation(_ name: String) -> String
  /// The certificate for `name`, else the wildcard covering it; nil when storage has neither (or they
  /// cannot be used, which is reported).
  func load(_ name: String) -> StoredCertificate?
  /// The current version of the chain at `id`; nil when it is gone or cannot be told.
  func stamp(of id: String) -> Int?
  /// Changes whenever a certificate may have been added. Two equal answers mean a name that was missing
  /// at the first is still missing; nil means "cannot tell, look again".
  func generation() -> Int?
}

/// The node's own `<storage>/certificates` directory, read as files (the layout `FileStorage` writes).
struct FileStoredCertificates: StoredCertificates {
  let source: FileCertificateSource

  init(directory: String, onError: @escaping @Sendable (CertificateError) -> Void) {
    source = FileCertificateSource(directory: directory, onError: onError)
  }

  func expectedLocation(_ name: String) -> String {
    source.directory + "/" + StorageKeys.certificateName(name) + ".crt"
  }

  func load(_ name: String) -> StoredCertificate? {
    guard let (key, file) = source.load(name), let data = FileManager.default.contents(atPath: file) else { return nil }
    return StoredCertificate(
      key: key, id: file, stamp: Self.modificationTime(file), chainPEM: String(decoding: data, as: UTF8.self))
  }

  func stamp(of id: String) -> Int? { Self.modificationTime(id) }

  /// The directory's modification time: it changes when a file is created or renamed into it.
  func generation() -> Int? { Self.modificationTime(source.directory) }

  static func modificationTime(_ path: String) -> Int? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec
  }
}

/// Certificates in the cluster's storage (Redis). Every read may block on the network: called off the
/// loops only, like every storage call.
///
/// There is no cheap "has anything been added" stamp in shared storage, so `generation` is a counter the
/// cluster agent bumps on every certificate event and reconnect, combined with a ten-second clock: a
/// name found missing is looked up again after the next event, or ten seconds later if events were lost.
final class SharedStoredCertificates: StoredCertificates {
  let storage: RedisStorage
  private let events = Locked(0)
  private let onError: @Sendable (String) -> Void

  init(storage: RedisStorage, onError: @escaping @Sendable (String) -> Void) {
    self.storage = storage
    self.onError = onError
  }

  /// Something may have changed in storage (an event arrived, or the connection came back).
  func invalidate() { events.withLock { $0 &+= 1 } }

  func expectedLocation(_ name: String) -> String { "cluster storage " + StorageKeys.certificate(name) }

  func load(_ name: String) -> StoredCertificate? {
    var candidates = [name]
    if let wildcard = WildcardName.covering(name) { candidates.append(wildcard) }
    for candidate in candidates {
      let chainKey = StorageKeys.certificate(candidate)
      let found: [(value: [UInt8], modified: Date)?]
      do {
        // Chain, key and the chain's stamp in one round trip (shared storage is across a WAN).
        found = try storage.loadMany([chainKey, StorageKeys.privateKey(candidate)])
      } catch {
        onError("\(error)")
        return nil
      }
      guard let chain = found[0], let keyPEM = found[1] else { continue }
      let chainPEM = String(decoding: chain.value, as: UTF8.self)
      do {
        let key = try CertifiedKey(chainPEM: chainPEM, keyPEM: String(decoding: keyPEM.value, as: UTF8.self))
        return StoredCertificate(key: key, id: chainKey, stamp: Self.stamp(chain.modified), chainPEM: chainPEM)
      } catch {
        onError("\(chainKey): \(error)")
        continue
      }
    }
    return nil
  }

  static func stamp(_ date: Date) -> Int { Int(date.timeIntervalSince1970 * 1_000) * 1_000_000 }

  func stamp(of id: String) -> Int? {
    (try? storage.stat(id)).map { Self.stamp($0.modified) }
  }

  func generation() -> Int? {
    let tens = Int(Date().timeIntervalSince1970 / 10)
    return events.withLock { $0 } &* 1_000_003 &+ tens
  }
}
