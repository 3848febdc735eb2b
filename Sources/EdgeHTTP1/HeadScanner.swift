/// Finds where a message head ends in a buffer that grows between calls, remembering how far it got
/// so that a head arriving one byte at a time costs linear time.
///
/// On the way it enforces what can be known before the head is complete: every line ends in CRLF
/// (no bare CR or LF), the head stays within `maxHeadBytes` and `maxHeaderCount`, and — for a request —
/// the target within `maxURIBytes`. Leading empty lines are skipped (RFC 9112 §2.2).
struct HeadScanner {
  /// Where the head ends in the buffer.
  enum Outcome {
    /// The head is `start..<end` in the buffer, `end` just past the empty line's LF; `lines` counts
    /// the start line and the field lines.
    case complete(start: Int, end: Int, lines: Int)
    case needMoreBytes
    case invalid(HTTP1Error.Reason)
  }

  let limits: HTTP1Limits
  /// Whether the start line is a request line, whose target `maxURIBytes` limits.
  let measuresTarget: Bool

  private var next = 0
  private var headStart = 0
  private var lineStart = 0
  private var lines = 0
  /// Spaces seen in the start line, and where the target (after the first) starts.
  private var spaces = 0
  private var targetStart = 0

  init(limits: HTTP1Limits, measuresTarget: Bool) {
    self.limits = limits
    self.measuresTarget = measuresTarget
  }

  mutating func reset() {
    self = HeadScanner(limits: limits, measuresTarget: measuresTarget)
  }

  /// Continues the scan over `bytes`, which must begin with the bytes of earlier calls.
  mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Outcome {
    if next > bytes.count { reset() }  // not the same buffer: start over rather than skip bytes
    var i = next
    defer { next = i }
    let count = bytes.count
    let limit = limits.maxHeadBytes
    while i < count {
      if lines > 0 || !measuresTarget {
        // Fast path through field lines: skip bytes that cannot end a line (anything above CR).
        let end = min(count, limit + 1)
        while i < end && bytes[i] > ASCII.cr { i += 1 }
        if i > limit { return .invalid(.headTooLarge) }
        if i == count { return .needMoreBytes }
      }
      let byte = bytes[i]
      if byte == ASCII.cr {
        guard i + 1 < count else { return .needMoreBytes }  // look at the CR again with the next byte
        guard bytes[i + 1] == ASCII.lf else { return .invalid(.bareCR) }
        let emptyLine = i == lineStart
        i += 2
        lineStart = i
        // Leading empty lines count too: they stay in the buffer until the head is consumed.
        if i > limit { return .invalid(.headTooLarge) }
        if emptyLine && lines == 0 {
          headStart = i  // an empty line before the start line
          continue
        }
        if emptyLine { return .complete(start: headStart, end: i, lines: lines) }
        lines += 1
        if lines - 1 > limits.maxHeaderCount { return .invalid(.tooManyFields) }
        continue
      }
      if byte == ASCII.lf { return .invalid(.bareLF) }
      if lines == 0 && measuresTarget {
        if byte == ASCII.space {
          spaces += 1
          if spaces == 1 { targetStart = i + 1 }
        } else if spaces == 1 && i - targetStart >= limits.maxURIBytes {
          return .invalid(.uriTooLong)
        }
      }
      i += 1
      if i > limit { return .invalid(.headTooLarge) }
    }
    return .needMoreBytes
  }
}
