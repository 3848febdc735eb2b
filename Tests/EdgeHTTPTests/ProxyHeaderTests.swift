import EdgeConfig
import EdgeProxy
import Testing

@testable import EdgeHTTP

/// PROXY protocol headers (haproxy's proxy-protocol.txt): what edge writes to upstreams and reads from
/// load balancers, byte for byte, and what it does with truncated and hostile input.
@Suite struct ProxyHeaderTests {
  static let v4 = ProxyHeader.proxied(
    source: ProxyEndpoint(ip: "192.0.2.1", port: 56324)!, destination: ProxyEndpoint(ip: "198.51.100.2", port: 443)!)
  static let v6 = ProxyHeader.proxied(
    source: ProxyEndpoint(ip: "2001:db8::1", port: 1)!, destination: ProxyEndpoint(ip: "2001:db8:0:1::ff", port: 65535)!)

  @Test func v1BytesAreTheSpecificationsText() {
    #expect(Self.v4.encoded(.v1) == Array("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n".utf8))
    #expect(Self.v6.encoded(.v1) == Array("PROXY TCP6 2001:db8::1 2001:db8:0:1::ff 1 65535\r\n".utf8))
    #expect(ProxyHeader.unknown.encoded(.v1) == Array("PROXY UNKNOWN\r\n".utf8))
  }

  @Test func v2BytesAreTheSpecificationsLayout() {
    let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    // PROXY command, TCP over IPv4, 12 bytes of addresses: src, dst, sport, dport.
    #expect(
      Self.v4.encoded(.v2)
        == signature + [0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 1, 198, 51, 100, 2, 0xDC, 0x04, 0x01, 0xBB])
    let v6 = Self.v6.encoded(.v2)
    #expect(v6.count == 16 + 36)
    #expect(Array(v6[12..<16]) == [0x21, 0x21, 0x00, 0x24])
    #expect(Array(v6[48..<52]) == [0x00, 0x01, 0xFF, 0xFF])
    #expect(ProxyHeader.local.encoded(.v2) == signature + [0x20, 0x00, 0x00, 0x00])
  }

  @Test("encode then parse gives the header back", arguments: [ProxyHeader.Version.v1, .v2])
  func roundTrip(_ version: ProxyHeader.Version) {
    for header in [Self.v4, Self.v6, .unknown] {
      let bytes = header.encoded(version)
      #expect(ProxyHeaderParser.parse(bytes) == .complete(header, consumed: bytes.count))
      // What follows the header is left for TLS or HTTP.
      let more = bytes + Array("GET / HTTP/1.1\r\n".utf8)
      #expect(ProxyHeaderParser.parse(more) == .complete(header, consumed: bytes.count))
    }
    #expect(ProxyHeaderParser.parse(ProxyHeader.local.encoded(.v2)) == .complete(.local, consumed: 16))
  }

  @Test func mixedFamiliesAreWrittenAsIPv6() {
    let mixed = ProxyHeader.proxied(
      source: ProxyEndpoint(ip: "192.0.2.9", port: 5)!, destination: ProxyEndpoint(ip: "::1", port: 80)!)
    #expect(mixed.encoded(.v1) == Array("PROXY TCP6 ::ffff:192.0.2.9 ::1 5 80\r\n".utf8))
    guard case .complete(.proxied(let source, _), _) = ProxyHeaderParser.parse(mixed.encoded(.v2)) else {
      Issue.record("v2 with mapped address not read back")
      return
    }
    // Read back, the mapped address is the IPv4 client it names.
    #expect(source.ip == "192.0.2.9")
  }

  @Test("every prefix of a header waits for more bytes", arguments: [ProxyHeader.Version.v1, .v2])
  func truncated(_ version: ProxyHeader.Version) {
    for header in [Self.v4, Self.v6, .local, .unknown] where !(version == .v1 && header == .local) {
      let bytes = header.encoded(version)
      for length in 0..<bytes.count {
        #expect(ProxyHeaderParser.parse(Array(bytes[..<length])) == .needMoreBytes, "\(version) prefix of \(length)")
      }
    }
  }

  @Test("connections without a header are left alone", arguments: [
    Array("GET / HTTP/1.1\r\n".utf8), [0x16, 0x03, 0x01, 0x02, 0x00], Array("PROXZ".utf8), Array("P".utf8) + [0],
    [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B],
  ])
  func notProxy(_ bytes: [UInt8]) {
    #expect(ProxyHeaderParser.parse(bytes) == .notProxy)
  }

  @Test("malformed v1 headers are refused", arguments: [
    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 65536\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 5a 80\r\n",
    "PROXY TCP4 192.0.2.1  198.51.100.2 1 80\r\n", "PROXY TCP4 2001:db8::1 2001:db8::2 1 80\r\n",
    "PROXY TCP6 192.0.2.1 198.51.100.2 1 80\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n",
    "PROXY UDP4 192.0.2.1 198.51.100.2 1 80\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 1 80\n",
    "PROXY TCP4 192.0.2.1 198.51.100.2 1 80\rX", "PROXY TCP4 host.example 198.51.100.2 1 80\r\n",
    "PROXY TCP4 192.0.2.1 198.51.100.2 123456 80\r\n", "PROXY TCP4 192.0.2.1 198.51.100.2 -1 80\r\n",
    "PROXY " + String(repeating: "A", count: 120),
  ])
  func malformedV1(_ text: String) {
    guard case .invalid = ProxyHeaderParser.parse(Array(text.utf8)) else {
      Issue.record("accepted: \(text.debugDescription): \(ProxyHeaderParser.parse(Array(text.utf8)))")
      return
    }
  }

  @Test func malformedV2() {
    let good = Self.v4.encoded(.v2)
    func with(_ index: Int, _ byte: UInt8) -> [UInt8] {
      var bytes = good
      bytes[index] = byte
      return bytes
    }
    for bad in [
      with(12, 0x11),  // version 1 in a v2 header
      with(12, 0x2F),  // command 15
      with(13, 0x41),  // family 4
      with(13, 0x13),  // protocol 3
      with(15, 0x08),  // 8 bytes: too short for two IPv4 addresses and ports
      Array(good[..<14]) + [0xFF, 0xFF] + Array(repeating: 0, count: 100),  // longer than edge takes
    ] {
      guard case .invalid = ProxyHeaderParser.parse(bad) else {
        Issue.record("accepted \(bad): \(ProxyHeaderParser.parse(bad))")
        continue
      }
    }
    // TLVs after the addresses are skipped; UDP and unix addresses are relayed as unknown.
    let tlv = Array(good[..<14]) + [0x00, 0x12] + Array(good[16...]) + [0x04, 0x00, 0x03, 0x61, 0x62, 0x63]
    #expect(ProxyHeaderParser.parse(tlv) == .complete(Self.v4, consumed: tlv.count))
    #expect(ProxyHeaderParser.parse(with(13, 0x12)) == .complete(.unknown, consumed: good.count))
    #expect(ProxyHeaderParser.parse(Array(good[..<12]) + [0x21, 0x31, 0x00, 0xD8] + Array(repeating: 0, count: 216))
      == .complete(.unknown, consumed: 232))
  }

  @Test func randomAndMutatedInputNeverCrashesNorOverreads() {
    var generator = SystemRandomNumberGenerator()
    let seeds = [Self.v4.encoded(.v1), Self.v6.encoded(.v1), Self.v4.encoded(.v2), Self.v6.encoded(.v2)]
    for round in 0..<20_000 {
      var bytes: [UInt8]
      if round % 4 == 0 {
        bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        if round % 8 == 0 { bytes = Array(ProxyHeader.local.encoded(.v2)[..<12]) + bytes }
      } else {
        bytes = seeds[round % seeds.count]
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
          bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
        }
        bytes = Array(bytes[..<Int.random(in: 0...bytes.count, using: &generator)])
      }
      switch ProxyHeaderParser.parse(bytes) {
      case .complete(_, let consumed):
        #expect(consumed > 0 && consumed <= bytes.count)
      case .needMoreBytes:
        #expect(bytes.count < ProxyHeaderParser.maxLength)
      case .notProxy, .invalid:
        break
      }
    }
  }

  // MARK: What the listener does with it

  @Test func policiesDecideWhoseAddressTheConnectionGets() {
    let header = Self.v4.encoded(.v1)
    let request = Array("GET / HTTP/1.1\r\n\r\n".utf8)
    func outcome(_ bytes: [UInt8], _ policy: ProxyProtocolListener.Policy) -> String {
      switch ProxyHeaderReader.decide(bytes, policy) {
      case nil: return "wait"
      case .close: return "close"
      case .serve(let source, _, let rest): return "\(source?.description ?? "peer") \(rest.count)"
      }
    }
    #expect(outcome(header + request, .use) == "192.0.2.1:56324 \(request.count)")
    #expect(outcome(header + request, .require) == "192.0.2.1:56324 \(request.count)")
    #expect(outcome(header + request, .ignore) == "peer \(request.count)")
    #expect(outcome(header + request, .reject) == "close")
    #expect(outcome(request, .use) == "peer \(request.count)")
    #expect(outcome(request, .require) == "close")
    #expect(outcome(request, .reject) == "peer \(request.count)")
    #expect(outcome(Array(header[..<10]), .use) == "wait")
    #expect(outcome(Array("PROXY TCP4 x\r\n".utf8), .use) == "close")
    // LOCAL (the balancer's health check) keeps the peer's own address.
    #expect(outcome(ProxyHeader.local.encoded(.v2) + request, .use) == "peer \(request.count)")
  }

  @Test func denyThenAllowThenFallback() {
    let inbound = InboundProxyProtocol(
      ProxyProtocolListener(allow: ["10.0.0.0/8"], deny: ["10.9.0.0/16"], fallbackPolicy: .require), readHeader: .seconds(9))
    #expect(inbound.policy(for: "10.1.2.3") == .use)
    #expect(inbound.policy(for: "10.9.2.3") == .reject)
    #expect(inbound.policy(for: "192.0.2.1") == .require)
    #expect(inbound.timeoutMilliseconds == 5000)
    let noTimeout = InboundProxyProtocol(ProxyProtocolListener(timeout: .zero), readHeader: .seconds(9))
    #expect(noTimeout.timeoutMilliseconds == 9000)
    #expect(noTimeout.policy(for: "10.1.2.3") == .ignore)
  }
}
