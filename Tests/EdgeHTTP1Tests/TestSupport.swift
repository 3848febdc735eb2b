@testable import EdgeHTTP1

/// Parses `text` as one request with a fresh parser.
func parseRequest(_ text: String, limits: HTTP1Limits = HTTP1Limits()) -> HeadParseResult<RequestHead> {
  var parser = RequestHeadParser(limits: limits)
  return Array(text.utf8).withUnsafeBytes { parser.parse($0) }
}

/// The head of a request that must parse.
func request(_ text: String) -> RequestHead? {
  if case .complete(let head, _) = parseRequest(text) { return head }
  return nil
}

/// The error of a request that must be rejected.
func requestError(_ text: String, limits: HTTP1Limits = HTTP1Limits()) -> HTTP1Error? {
  if case .invalid(let error) = parseRequest(text, limits: limits) { return error }
  return nil
}

func parseResponse(_ text: String, method: String = "GET") -> HeadParseResult<ResponseHead> {
  var parser = ResponseHeadParser()
  return Array(text.utf8).withUnsafeBytes { parser.parse($0, requestMethod: method) }
}

func response(_ text: String, method: String = "GET") -> ResponseHead? {
  if case .complete(let head, _) = parseResponse(text, method: method) { return head }
  return nil
}

func responseError(_ text: String, method: String = "GET") -> HTTP1Error? {
  if case .invalid(let error) = parseResponse(text, method: method) { return error }
  return nil
}

extension HeadParseResult {
  var isNeedMoreBytes: Bool {
    if case .needMoreBytes = self { return true }
    return false
  }
}

/// Feeds `bytes` to a chunked decoder in pieces ending at `cuts`; returns the body and trailers,
/// checking on the way that each call consumed everything up to the end of the body.
func decodeChunked(_ bytes: [UInt8], cuts: [Int]) throws -> (body: [UInt8], trailers: HTTPHeaders, consumed: Int) {
  var decoder = ChunkedDecoder()
  var body: [UInt8] = []
  var start = 0
  var consumedTotal = 0
  for end in cuts + [bytes.count] where end >= start {
    let piece = Array(bytes[start..<end])
    let (consumed, finished) = try piece.withUnsafeBytes { raw in
      try decoder.decode(raw) { body.append(contentsOf: $0) }
    }
    consumedTotal += consumed
    if finished { return (body, decoder.trailers, consumedTotal) }
    start = end
  }
  return (body, decoder.trailers, -1)
}

/// A deterministic pseudo-random generator (xorshift) for repeatable random splits.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
