import EdgeHTTP1
import EdgeRegex

/// One active health check's request and what its answer must look like: plain HTTP/1.1, one request
/// per connection (`Connection: close`), judged on the status and, with `body`, on the first
/// `maxBodyBytes` of the body.
public struct HealthProbe: Sendable {
  /// Where to connect: the upstream's host, on the upstream's port or `health_port`.
  public let host: String
  public let port: Int
  /// The request as sent.
  public let request: [UInt8]
  public let method: String
  /// Statuses that pass; empty means any 2xx.
  public let statuses: [ClosedRange<Int>]
  public let body: CompiledRegex?
  public let timeoutMilliseconds: UInt64
  public let intervalMilliseconds: UInt64
  /// Consecutive results that flip the status (see `UpstreamHealth.record`).
  public let passes: Int
  public let fails: Int

  /// How much of a body `health_body` is matched against.
  public static let maxBodyBytes = 64 * 1024

  /// `hostHeader` is the upstream's address as written (`app:8080`) unless `fields` name a Host.
  public init(
    host: String, port: Int, uri: String, hostHeader: String, fields: [(name: String, value: String)], method: String,
    statuses: [ClosedRange<Int>], body: CompiledRegex?, timeoutMilliseconds: UInt64, intervalMilliseconds: UInt64,
    passes: Int, fails: Int
  ) {
    self.host = host
    self.port = port
    self.method = method
    self.statuses = statuses
    self.body = body
    self.timeoutMilliseconds = timeoutMilliseconds
    self.intervalMilliseconds = intervalMilliseconds
    self.passes = passes
    self.fails = fails
    var text = "\(method) \(uri) HTTP/1.1\r\n"
    let givenHost = fields.first { $0.name.lowercased() == "host" }?.value
    text += "Host: \(givenHost ?? hostHeader)\r\n"
    var hasAgent = false
    for field in fields where field.name.lowercased() != "host" {
      hasAgent = hasAgent || field.name.lowercased() == "user-agent"
      text += "\(field.name): \(field.value)\r\n"
    }
    if !hasAgent { text += "User-Agent: edge-health-check\r\n" }
    text += "Connection: close\r\n\r\n"
    request = Array(text.utf8)
  }

  /// Whether `status` is one this probe accepts.
  public func accepts(status: Int) -> Bool {
    statuses.isEmpty ? (200...299).contains(status) : statuses.contains { $0.contains(status) }
  }
}

/// A probe's outcome; `reason` says why it failed, for the log.
public enum ProbeVerdict: Equatable, Sendable {
  case pass
  case fail(String)

  public var passed: Bool { self == .pass }
}

/// Reads a probe's answer as it arrives and decides as soon as it can: on the status when the body does
/// not matter, else once the body (or its first `maxBodyBytes`) is in.
public struct ProbeReader {
  private let probe: HealthProbe
  private var parser = ResponseHeadParser()
  private var head: [UInt8] = []
  private var framing: BodyFraming?
  private var length: LengthDecoder?
  private var chunked: ChunkedDecoder?
  private var body: [UInt8] = []

  public init(_ probe: HealthProbe) { self.probe = probe }

  /// Takes the next bytes; a verdict once there is one.
  public mutating func read(_ bytes: UnsafeRawBufferPointer) -> ProbeVerdict? {
    guard framing != nil else {
      head.append(contentsOf: bytes)
      let buffer = head
      return buffer.withUnsafeBytes { parseHead($0) }
    }
    return readBody(bytes)
  }

  /// The connection ended; the verdict on what came.
  public mutating func end() -> ProbeVerdict {
    guard let framing else { return .fail("connection closed before a response") }
    if case .untilClose = framing { return judgeBody() }
    return .fail("connection closed inside the response body")
  }

  private mutating func parseHead(_ buffer: UnsafeRawBufferPointer) -> ProbeVerdict? {
    switch parser.parse(buffer, requestMethod: probe.method) {
    case .needMoreBytes:
      return nil
    case .invalid(let error):
      return .fail("bad response: \(error)")
    case .complete(let response, let consumed):
      parser.reset()
      if response.status < 200 {
        // An interim response (100, 103): the final one follows.
        head.removeFirst(consumed)
        let rest = head
        return rest.withUnsafeBytes { parseHead($0) }
      }
      guard probe.accepts(status: response.status) else { return .fail("status \(response.status)") }
      guard probe.body != nil else { return .pass }
      framing = response.framing
      switch response.framing {
      case .none: return judgeBody()
      case .length(let n): length = LengthDecoder(length: n)
      case .chunked: chunked = ChunkedDecoder()
      case .untilClose: break
      }
      let rest = Array(head[consumed...])
      head = []
      return rest.withUnsafeBytes { readBody($0) }
    }
  }

  private mutating func readBody(_ bytes: UnsafeRawBufferPointer) -> ProbeVerdict? {
    var finished = false
    var collected = body
    let room = HealthProbe.maxBodyBytes
    let keep: (UnsafeRawBufferPointer) -> Void = { data in
      if collected.count < room { collected.append(contentsOf: data.prefix(room - collected.count)) }
    }
    do {
      if var decoder = length {
        finished = try decoder.decode(bytes, data: keep).finished
        length = decoder
      } else if var decoder = chunked {
        finished = try decoder.decode(bytes, data: keep).finished
        chunked = decoder
      } else {
        keep(bytes)
      }
    } catch {
      return .fail("bad response body: \(error)")
    }
    body = collected
    return finished || body.count >= room ? judgeBody() : nil
  }

  private func judgeBody() -> ProbeVerdict {
    guard let regex = probe.body else { return .pass }
    return regex.matches(String(decoding: body, as: UTF8.self)) ? .pass : .fail("body does not match health_body")
  }
}
