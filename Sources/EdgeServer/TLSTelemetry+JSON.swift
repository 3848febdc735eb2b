import Foundation

extension TLSTelemetry {
  /// `{"dimension": {"key": count}}` with every dimension present (empty when nothing was counted).
  public static func jsonObject(_ counts: Counts) -> [String: [String: Int]] {
    var object: [String: [String: Int]] = [:]
    for dimension in Dimension.allCases { object[dimension.rawValue] = counts[dimension] ?? [:] }
    return object
  }

  /// Reads `jsonObject`'s form back (dimensions this version does not know are left out).
  public static func counts(fromJSON object: [String: Any]) -> Counts {
    var counts: Counts = [:]
    for dimension in Dimension.allCases {
      guard let keys = object[dimension.rawValue] as? [String: Any] else { continue }
      counts[dimension] = keys.compactMapValues { ($0 as? NSNumber)?.intValue }
    }
    return counts
  }
}
