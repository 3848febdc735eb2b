/// A compressed content coding edge can produce; the raw value is its `Content-Encoding` token.
public enum ContentCoding: String, Sendable, CaseIterable {
  case zstd, gzip
}
