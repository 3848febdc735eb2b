import Foundation
import FuzzSupport

@testable import EdgeACME

/// What edge reads from an ACME CA: the HTTP/1.1 response itself (`HTTPResponseReader`), the JSON
/// resources (directory, order, authorization, problem, renewal information), and the header values it
/// interprets (Retry-After, Link, RFC 3339 times). The first byte picks which; the rest is the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzACME(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = fuzzInput(data, size)
  guard let selector = input.first else { return 0 }
  let bytes = Array(input[1...])
  let json = Data(bytes)
  let decoder = JSONDecoder()
  switch selector % 8 {
  case 0: checkResponseReader(bytes, method: selector & 0x80 == 0 ? "GET" : "HEAD")
  case 1: _ = try? decoder.decode(ACMEDirectory.self, from: json)
  case 2:
    if let order = try? decoder.decode(ACMEOrder.self, from: json) { _ = order.error?.description }
  case 3:
    if let authorization = try? decoder.decode(ACMEAuthorization.self, from: json) {
      _ = (authorization.orderedName, authorization.failure?.description)
    }
  case 4:
    if let problem = try? decoder.decode(ACMEProblem.self, from: json) {
      _ = (problem.description, problem.isACMEError("badNonce"))
    }
  case 5:
    if let info = try? decoder.decode(RenewalInfoBody.self, from: json) {
      _ = (RFC3339.parse(info.suggestedWindow.start), RFC3339.parse(info.suggestedWindow.end))
    }
  case 6: checkHeaderValues(String(decoding: bytes, as: UTF8.self))
  default: checkIdentifier(String(decoding: bytes, as: UTF8.self))
  }
  return 0
}

/// A response read from a stream that delivers it whole, and one that delivers it a byte at a time,
/// must be the same response (or the same error).
func checkResponseReader(_ bytes: [UInt8], method: String) {
  let whole = readResponse(bytes, pieceSize: max(bytes.count, 1), method: method)
  let trickled = readResponse(bytes, pieceSize: 1, method: method)
  invariant(whole == trickled, "pieces change the response: \(whole) vs \(trickled)")
  if case .response(let response, _) = whole {
    invariant(response.body.count <= HTTPResponseReader.maximumBodyBytes, "body over the limit")
    invariant((100...999).contains(response.status), "status \(response.status)")
    _ = RetryAfter.parse(response.headers["Retry-After"], now: Date(timeIntervalSince1970: 1_700_000_000))
    _ = LinkHeader.targets(response.headers.values("Link"), relation: "alternate") { $0 }
  }
}

enum ReadOutcome: Equatable {
  case response(ACMEHTTPResponse, keepAlive: Bool)
  case failed(String)
}

func readResponse(_ bytes: [UInt8], pieceSize: Int, method: String) -> ReadOutcome {
  var reader = HTTPResponseReader(stream: ScriptedStream(bytes, pieceSize: pieceSize), deadline: .now + .seconds(60))
  do {
    let (response, keepAlive) = try reader.read(requestMethod: method)
    return .response(response, keepAlive: keepAlive)
  } catch {
    return .failed("\(error)")
  }
}

/// Retry-After and Link as edge reads them from a CA's response, and RFC 3339 times.
func checkHeaderValues(_ text: String) {
  let now = Date(timeIntervalSince1970: 1_700_000_000)
  if let wait = RetryAfter.parse(text, now: now) { invariant(wait >= .zero, "negative Retry-After \(wait)") }
  _ = RetryAfter.httpDate(text)
  _ = LinkHeader.targets([text], relation: "up") { "https://ca.test" + $0 }
  _ = RFC3339.parse(text)
}

/// An identifier made from a name is made again, unchanged, from its own value.
func checkIdentifier(_ text: String) {
  guard let identifier = try? ACMEIdentifier(name: text) else { return }
  let again = try? ACMEIdentifier(name: identifier.value)
  invariant(again == identifier, "identifier '\(identifier.value)' from '\(text)' does not read back")
}

/// A stream that hands out `bytes` `pieceSize` at a time, then ends.
final class ScriptedStream: ByteStream {
  private let bytes: [UInt8]
  private let pieceSize: Int
  private var offset = 0

  init(_ bytes: [UInt8], pieceSize: Int) {
    self.bytes = bytes
    self.pieceSize = pieceSize
  }

  func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws {}

  func read(into buffer: inout [UInt8], deadline: ContinuousClock.Instant) throws -> Bool {
    guard offset < bytes.count else { return false }
    let end = min(bytes.count, offset + pieceSize)
    buffer += bytes[offset..<end]
    offset = end
    return true
  }

  var isStale: Bool { false }
  func close() {}
}
