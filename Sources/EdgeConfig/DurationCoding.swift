/// JSON form of durations: a Caddyfile duration string (`"30s"`, `"1m30s"`, `"250ms"`). Decoding also
/// takes a number of seconds (`30`, `0.5`). Missing keys decode to the model's defaults, so a hand-written
/// JSON config only needs the fields it changes.
extension KeyedDecodingContainer {
  func decodeDuration(_ key: Key) throws -> Duration? {
    guard contains(key), try !decodeNil(forKey: key) else { return nil }
    if let seconds = try? decode(Double.self, forKey: key) {
      return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
    let text = try decode(String.self, forKey: key)
    guard let duration = Duration(caddyfile: text) else {
      throw DecodingError.dataCorruptedError(
        forKey: key, in: self, debugDescription: "'\(text)' is not a duration; write e.g. \"30s\" or \"1m30s\"")
    }
    return duration
  }

  /// A duration that may be explicitly `null` (meaning "off"); a missing key gives `fallback`.
  func decodeOptionalDuration(_ key: Key, default fallback: Duration?) throws -> Duration? {
    guard contains(key) else { return fallback }
    return try decodeDuration(key)
  }

  func decode<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
    try decodeIfPresent(T.self, forKey: key) ?? fallback
  }
}

extension KeyedEncodingContainer {
  mutating func encodeDuration(_ duration: Duration?, forKey key: Key) throws {
    if let duration {
      try encode(duration.caddyfileString, forKey: key)
    } else {
      try encodeNil(forKey: key)
    }
  }
}
