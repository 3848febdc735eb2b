/// What a head parser made of the bytes so far.
public enum HeadParseResult<Head> {
  /// A whole head; `consumed` bytes of the buffer belong to it (any leading empty lines included).
  case complete(Head, consumed: Int)
  /// The head is not complete yet: call again with the same bytes and more.
  case needMoreBytes
  /// The bytes cannot be a valid head; answer with `error.status` and close.
  case invalid(HTTP1Error)
}

extension HeadParseResult: Sendable where Head: Sendable {}
