import FuzzSupport

@testable import EdgeHTTP1

/// The response head parser (what upstreams send): the first byte picks the request method the response
/// answers, the rest is the response. Whole, two pieces and byte-at-a-time must agree; an accepted head
/// must read back the same after edge encodes it for the client.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponseHead(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = fuzzInput(data, size)
  guard let selector = input.first else { return 0 }
  let method = ["GET", "HEAD", "CONNECT", "POST"][Int(selector) % 4]
  let bytes = UnsafeRawBufferPointer(rebasing: input[1...])
  for limits in [HTTP1Limits(maxHeadBytes: 65536, maxURIBytes: 8192, maxHeaderCount: 200),
                 HTTP1Limits(maxHeadBytes: 500, maxURIBytes: 8192, maxHeaderCount: 8)] {
    let whole = ResponseOutcome(parsing: bytes, method: method, limits: limits)
    invariant(whole == ResponseOutcome(parsingInTwo: bytes, method: method, limits: limits), "two pieces differ: \(whole)")
    invariant(whole == ResponseOutcome(trickling: bytes, method: method, limits: limits), "byte-at-a-time differs: \(whole)")
    if case .complete(let head, let consumed) = whole {
      invariant(consumed > 0 && consumed <= bytes.count, "consumed \(consumed) of \(bytes.count)")
      invariant(head.status >= 100 && head.status <= 999, "status \(head.status)")
      if head.status < 200 || head.status == 204 || head.status == 304 || method == "HEAD" {
        invariant(head.framing == .none, "a \(head.status) to \(method) with a body: \(head.framing)")
      }
      if case .length(let n) = head.framing { invariant(n >= 0, "negative length") }
      checkRoundTrip(head, method: method)
    }
  }
  return 0
}

enum ResponseOutcome: Equatable, CustomStringConvertible {
  case complete(ResponseHead, consumed: Int)
  case needMoreBytes
  case invalid(HTTP1Error)

  init(_ result: HeadParseResult<ResponseHead>) {
    switch result {
    case .complete(let head, let consumed): self = .complete(head, consumed: consumed)
    case .needMoreBytes: self = .needMoreBytes
    case .invalid(let error): self = .invalid(error)
    }
  }

  init(parsing bytes: UnsafeRawBufferPointer, method: String, limits: HTTP1Limits) {
    var parser = ResponseHeadParser(limits: limits)
    self.init(parser.parse(bytes, requestMethod: method))
  }

  init(parsingInTwo bytes: UnsafeRawBufferPointer, method: String, limits: HTTP1Limits) {
    var parser = ResponseHeadParser(limits: limits)
    let first = withExactCopy(bytes[0..<splitPoint(bytes)]) { ResponseOutcome(parser.parse($0, requestMethod: method)) }
    guard first == .needMoreBytes else {
      self = first
      return
    }
    self = withExactCopy(bytes) { ResponseOutcome(parser.parse($0, requestMethod: method)) }
  }

  init(trickling bytes: UnsafeRawBufferPointer, method: String, limits: HTTP1Limits) {
    var parser = ResponseHeadParser(limits: limits)
    self = .needMoreBytes
    for end in 0...bytes.count {
      self = ResponseOutcome(parser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<end]), requestMethod: method))
      if self != .needMoreBytes { return }
    }
  }

  var description: String {
    switch self {
    case .complete(let head, let consumed): "complete(\(head.status) \(head.framing), consumed: \(consumed))"
    case .needMoreBytes: "needMoreBytes"
    case .invalid(let error): "invalid(\(error))"
    }
  }
}

/// What edge writes to the client for an upstream's head must parse back to the same status, fields
/// and framing.
func checkRoundTrip(_ head: ResponseHead, method: String) {
  var out: [UInt8] = []
  head.encode(into: &out)
  let roomy = HTTP1Limits(maxHeadBytes: out.count + 1, maxURIBytes: 8192, maxHeaderCount: head.headers.count + 1)
  let again = out.withUnsafeBytes { ResponseOutcome(parsing: $0, method: method, limits: roomy) }
  guard case .complete(let reparsed, let consumed) = again else {
    return invariant(false, "re-encoded head does not parse: \(again)\n\(String(decoding: out, as: UTF8.self))")
  }
  invariant(consumed == out.count, "re-encoded head consumed \(consumed) of \(out.count)")
  invariant(reparsed.status == head.status, "status changed")
  invariant(reparsed.headers == head.headers, "fields changed: \(reparsed.headers) != \(head.headers)")
  invariant(reparsed.framing == head.framing, "framing \(reparsed.framing) != \(head.framing)")
  if head.version == .http1_1 { invariant(reparsed.keepAlive == head.keepAlive, "keep-alive changed") }
}
