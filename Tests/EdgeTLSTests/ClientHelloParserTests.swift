import Testing
@testable import EdgeTLS

@Suite("ClientHello parser") struct ClientHelloParserTests {
  typealias B = ClientHelloBuilder

  /// A hello with GREASE in every list a browser puts it in.
  static var browserLike: ClientHelloBuilder {
    var builder = ClientHelloBuilder()
    builder.ciphers = [0x8a8a, 0x1301, 0x1302, 0xc02b]
    builder.extensions = [
      B.opaque(0xdada), B.serverName("secret.example"), B.alpn(["h2", "http/1.1"]),
      B.supportedVersions([0x3a3a, 0x0304, 0x0303]), B.groups([0x4a4a, 0x001d, 0x0017]),
      B.signatureAlgorithms([0x0403, 0x0804]), B.opaque(0x44cd, [0, 3, 2, 0x68, 0x32]), B.opaque(0x1a1a, [0]),
    ]
    return builder
  }

  @Test("every field is read, GREASE kept as sent") func fields() throws {
    let hello = try #require(ClientHelloParser.hello(from: Self.browserLike.records()))
    #expect(hello.legacyVersion == 0x0303)
    #expect(hello.cipherSuites == [0x8a8a, 0x1301, 0x1302, 0xc02b])
    #expect(hello.extensions == [0xdada, 0x0000, 0x0010, 0x002b, 0x000a, 0x000d, 0x44cd, 0x1a1a])
    #expect(hello.supportedVersions == [0x3a3a, 0x0304, 0x0303])
    #expect(hello.offeredVersions == [0x0304, 0x0303])
    #expect(hello.supportedGroups == [0x4a4a, 0x001d, 0x0017])
    #expect(hello.signatureAlgorithms == [0x0403, 0x0804])
    #expect(hello.applicationProtocols == [Array("h2".utf8), Array("http/1.1".utf8)])
    #expect(hello.hasServerName)
  }

  @Test("GREASE is exactly the sixteen 0x?a?a values") func grease() {
    let grease = (0..<16).map { UInt16($0) << 12 | 0x0a00 | UInt16($0) << 4 | 0x0a }
    #expect(grease.allSatisfy(ClientHello.isGREASE))
    #expect((0...0xffff).filter { ClientHello.isGREASE(UInt16($0)) }.count == 16)
    #expect(!ClientHello.isGREASE(0x0a1a) && !ClientHello.isGREASE(0x1301))
  }

  @Test("without supported_versions the legacy version is offered; old hellos have no extensions") func legacy() throws {
    var builder = ClientHelloBuilder()
    builder.legacyVersion = 0x0301
    builder.extensions = nil
    let hello = try #require(ClientHelloParser.hello(from: builder.records()))
    #expect(hello.extensions.isEmpty && hello.offeredVersions == [0x0301] && !hello.hasServerName)
  }

  @Test("a hello split over several records, even inside its header, reads the same") func multiRecord() throws {
    let whole = try #require(ClientHelloParser.hello(from: Self.browserLike.records()))
    for sizes in [[1, 1, 1, 1, 40], [2, 1, 30], [3, 50], [100, 7], [Self.browserLike.message.count - 1]] {
      let stream = Self.browserLike.records(sizes)
      #expect(ClientHelloParser.hello(from: stream) == whole, "records of \(sizes)")
      // Every shorter prefix is incomplete, none is invalid.
      for end in 0..<stream.count {
        #expect(ClientHelloParser.parse(Array(stream[..<end])) == .incomplete, "records of \(sizes), first \(end) bytes")
      }
    }
    // Bytes after the hello (a client's next flight) change nothing.
    #expect(ClientHelloParser.hello(from: Self.browserLike.records() + [20, 3, 3, 0, 1, 1]) == whole)
  }

  @Test("more than maxRecords records is refused") func tooManyRecords() {
    let stream = Self.browserLike.records([4])  // the message is far longer than 16 × 4 bytes
    #expect(ClientHelloParser.parse(stream) == .invalid)
  }

  @Test("malformed hellos are invalid", arguments: Malformed.allCases)
  func malformed(_ kind: Malformed) {
    #expect(ClientHelloParser.parse(kind.bytes) == .invalid, "\(kind)")
    #expect(ClientHelloParser.hello(from: kind.bytes) == nil)
  }

  enum Malformed: CaseIterable {
    case applicationData, sslv2, serverHello, emptyRecord, oversizedRecord, oversizedMessage, oddCipherList
    case longSessionID, noCompression, extensionPastEnd, trailingBytes, badALPN, oddVersions, groupsLengthMismatch

    var bytes: [UInt8] {
      let good = ClientHelloParserTests.browserLike
      var builder = good
      switch self {
      case .applicationData: return [23, 3, 3, 0, 5, 1, 2, 3, 4, 5]
      case .sslv2: return [0x80, 0x2e, 0x01, 0x00, 0x02] + Array(repeating: 0, count: 44)
      case .serverHello: return B.records([2] + good.message.dropFirst(), [16_384])
      case .emptyRecord: return [22, 3, 1, 0, 0] + good.records()
      case .oversizedRecord: return [22, 3, 1, 0x40, 0x01] + Array(repeating: 0, count: 16_385)
      case .oversizedMessage: return B.records([1, 0x01, 0x00, 0x00] + Array(repeating: 0, count: 64), [16_384])
      case .oddCipherList:
        var body = good.body
        body[2 + 32 + 33 + 1] += 1  // the cipher list's length, low byte
        return B.records([1, 0, UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body, [16_384])
      case .longSessionID: builder.sessionID = Array(repeating: 1, count: 33)
      case .noCompression:
        var body = good.body
        let at = 2 + 32 + 33 + 2 + good.ciphers.count * 2
        body.replaceSubrange(at..<(at + 2), with: [0])
        return B.records([1, 0, UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body, [16_384])
      case .extensionPastEnd:
        builder.extensions = [(0x0017, []), (0x0023, [1, 2])]
        var body = builder.body
        body[body.count - 3] = 9  // the last extension claims 9 bytes, has 2
        return B.records([1, 0, UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body, [16_384])
      case .trailingBytes:
        let body = good.body + [0]
        return B.records([1, 0, UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body, [16_384])
      case .badALPN: builder.extensions = [(0x0010, [0, 4, 5, 0x68, 0x32, 0x32])]  // a name longer than the list
      case .oddVersions: builder.extensions = [(0x002b, [3, 3, 4, 3])]
      case .groupsLengthMismatch: builder.extensions = [(0x000a, [0, 4, 0, 0x1d])]
      }
      return builder.records()
    }
  }

  @Test("hostile bytes never crash it: every byte of a hello flipped, and random streams") func fuzz() {
    var generator = SplitMix(seed: 0x5eed)
    let stream = Self.browserLike.records([60, 30])
    for index in stream.indices {
      for value: UInt8 in [0, 1, 0x7f, 0xff, stream[index] ^ 0x55] {
        var mutated = stream
        mutated[index] = value
        _ = ClientHelloParser.parse(mutated)
        _ = ClientHelloParser.hello(from: mutated).map(\.ja4)
      }
    }
    for _ in 0..<3_000 {
      let count = Int(generator.next() % 600)
      var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
      // Half of them with a plausible record and handshake header, to get past the first checks.
      if generator.next() % 2 == 0 { bytes = [22, 3, 1] + B.u16(count + 4) + [1, 0] + B.u16(count) + bytes }
      _ = ClientHelloParser.hello(from: bytes).map(\.ja4)
    }
  }
}

/// A small deterministic generator (SplitMix64), so a fuzz failure repeats.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}
