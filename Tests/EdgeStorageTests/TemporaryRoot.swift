import Foundation
@testable import EdgeStorage

/// A fresh directory under the system's temporary directory, removed when the value goes away, with a
/// `FileStorage` rooted in it.
final class TemporaryRoot {
  let path: String
  let storage: FileStorage

  init(unreadableLockAge: Duration = .seconds(120)) {
    path = FileManager.default.temporaryDirectory.path + "/edge-storage-tests-" + UUID().uuidString
    storage = FileStorage(root: path + "/storage", unreadableLockAge: unreadableLockAge)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  /// The permission bits of `path` (relative to the storage root).
  func mode(_ relative: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: storage.root + "/" + relative)
    return (attributes[.posixPermissions] as! NSNumber).intValue
  }
}
