import FuzzSupport

@testable import EdgeHTTP1

/// The request head parser, three ways over the same bytes — whole, in two pieces, one byte at a time —
/// must reach the same verdict; a head it accepts must survive being encoded and parsed again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestHead(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = fuzzInput(data, size)
  // The defaults, and limits small enough for the fuzzer's short inputs to reach 414 and 431.
  for limits in [HTTP1Limits(), HTTP1Limits(maxHeadBytes: 600, maxURIBytes: 120, maxHeaderCount: 8)] {
    let whole = RequestOutcome(parsing: input, limits: limits)
    invariant(whole == RequestOutcome(parsingInTwo: input, limits: limits), "two pieces differ from one: \(whole)")
    invariant(whole == RequestOutcome(trickling: input, limits: limits), "byte-at-a-time differs from one piece: \(whole)")
    if case .complete(let head, let consumed) = whole {
      invariant(consumed > 0 && consumed <= input.count, "consumed \(consumed) of \(input.count)")
      checkRoundTrip(head)
    }
  }
  return 0
}

/// A parse result that can be compared.
enum RequestOutcome: Equatable, CustomStringConvertible {
  case complete(RequestHead, consumed: Int)
  case needMoreBytes
  case invalid(HTTP1Error)

  init(_ result: HeadParseResult<RequestHead>) {
    switch result {
    case .complete(let head, let consumed): self = .complete(head, consumed: consumed)
    case .needMoreBytes: self = .needMoreBytes
    case .invalid(let error): self = .invalid(error)
    }
  }

  init(parsing bytes: UnsafeRawBufferPointer, limits: HTTP1Limits) {
    var parser = RequestHeadParser(limits: limits)
    self.init(parser.parse(bytes))
  }

  /// The first piece alone in an exact allocation (a read past its end is an ASan report), then all.
  init(parsingInTwo bytes: UnsafeRawBufferPointer, limits: HTTP1Limits) {
    var parser = RequestHeadParser(limits: limits)
    let first = withExactCopy(bytes[0..<splitPoint(bytes)]) { RequestOutcome(parser.parse($0)) }
    guard first == .needMoreBytes else {
      self = first
      return
    }
    self = withExactCopy(bytes) { RequestOutcome(parser.parse($0)) }
  }

  /// Growing prefixes, as a connection passes what it has received so far.
  init(trickling bytes: UnsafeRawBufferPointer, limits: HTTP1Limits) {
    var parser = RequestHeadParser(limits: limits)
    self = .needMoreBytes
    for end in 0...bytes.count {
      self = RequestOutcome(parser.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<end])))
      if self != .needMoreBytes { return }
    }
  }

  var description: String {
    switch self {
    case .complete(let head, let consumed): "complete(\(head.method) \(head.target), consumed: \(consumed))"
    case .needMoreBytes: "needMoreBytes"
    case .invalid(let error): "invalid(\(error))"
    }
  }
}

/// Encodes `head` as a proxy forwards it (origin-form target, Host set to the host it was routed by) and
/// parses the result: what edge accepted, it must also write so that it reads back the same.
func checkRoundTrip(_ head: RequestHead) {
  var forwarded = head
  if let host = head.host { forwarded.headers.set("Host", host) }
  var out: [UInt8] = []
  forwarded.encode(into: &out)
  let roomy = HTTP1Limits(maxHeadBytes: out.count + 1, maxURIBytes: out.count, maxHeaderCount: forwarded.headers.count + 1)
  let again = out.withUnsafeBytes { RequestOutcome(parsing: $0, limits: roomy) }
  guard case .complete(let reparsed, let consumed) = again else {
    if head.host == nil && head.version == .http1_0 { return }  // HTTP/1.0 needs no Host; as 1.1 it does
    return invariant(false, "re-encoded head does not parse: \(again)\n\(String(decoding: out, as: UTF8.self))")
  }
  invariant(consumed == out.count, "re-encoded head consumed \(consumed) of \(out.count)")
  invariant(reparsed.method == head.method, "method \(reparsed.method) != \(head.method)")
  invariant(reparsed.path == head.path, "path \(reparsed.path) != \(head.path)")
  invariant(reparsed.headers == forwarded.headers, "fields changed: \(reparsed.headers) != \(forwarded.headers)")
  invariant(reparsed.host == head.host, "host \(reparsed.host ?? "nil") != \(head.host ?? "nil")")
  if head.version == .http1_1 {
    invariant(reparsed.framing == head.framing, "framing \(reparsed.framing) != \(head.framing)")
    invariant(reparsed.keepAlive == head.keepAlive, "keep-alive changed")
    invariant(reparsed.expectContinue == head.expectContinue, "expect changed")
    invariant(reparsed.upgrade == head.upgrade, "upgrade changed")
  }
}
