/// The rules every backend applies to keys, so a key valid in one is valid in all and none can leave the
/// file backend's root.
public enum StorageKey {
  /// The longest segment: a file name's limit on Linux and macOS, less room for the temporary-file suffix.
  static let maxSegmentBytes = 200

  /// The segments of `key`, or `StorageError.invalidKey` when it is empty, absolute, ends with `/`, has an
  /// empty, `.`, `..` or dot-first segment (dot-first names are the file backend's temporary files), a NUL
  /// byte, or a segment longer than 200 bytes.
  public static func segments(_ key: String) throws(StorageError) -> [Substring] {
    guard !key.isEmpty else { throw .invalidKey(key, reason: "empty") }
    guard !key.hasPrefix("/") else { throw .invalidKey(key, reason: "absolute (starts with '/')") }
    guard !key.utf8.contains(0) else { throw .invalidKey(key, reason: "contains a NUL byte") }
    let segments = key.split(separator: "/", omittingEmptySubsequences: false)
    for segment in segments {
      if segment.isEmpty { throw .invalidKey(key, reason: "empty segment ('//' or a trailing '/')") }
      if segment == "." || segment == ".." { throw .invalidKey(key, reason: "'\(segment)' segment") }
      if segment.hasPrefix(".") { throw .invalidKey(key, reason: "segment '\(segment)' starts with a dot") }
      if segment.utf8.count > maxSegmentBytes { throw .invalidKey(key, reason: "segment longer than \(maxSegmentBytes) bytes") }
    }
    return segments
  }

  /// Whether `key` follows the rules above.
  public static func isValid(_ key: String) -> Bool {
    (try? segments(key)) != nil
  }

  /// `prefix` + `/` + `name`, or `name` alone under the empty prefix.
  public static func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : prefix + "/" + name
  }
}
