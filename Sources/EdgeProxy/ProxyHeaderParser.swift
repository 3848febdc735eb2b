/// What the first bytes of a connection say about a PROXY header.
public enum ProxyHeaderParse: Equatable, Sendable {
  /// They do not start one (an HTTP request, a TLS ClientHello): nothing is consumed.
  case notProxy
  /// They could start one; wait for more (bounded by the listener's timeout and `maxLength`).
  case needMoreBytes
  /// A whole header, `consumed` bytes long; what follows is the connection's own data.
  case complete(ProxyHeader, consumed: Int)
  /// A header that breaks the specification: close the connection.
  case invalid(String)
}

/// Reads a PROXY header (v1 text or v2 binary) from the start of a connection. No I/O and no state:
/// call it again with everything received so far until it decides.
public enum ProxyHeaderParser {
  /// The longest header edge accepts, v2 TLVs included (the specification asks receivers for at least
  /// 536 bytes; balancers send a few dozen).
  public static let maxLength = 4096

  public static func parse(_ bytes: [UInt8]) -> ProxyHeaderParse {
    bytes.withUnsafeBytes { parse($0) }
  }

  public static func parse(_ bytes: UnsafeRawBufferPointer) -> ProxyHeaderParse {
    guard let first = bytes.first else { return .needMoreBytes }
    if first == ProxyHeader.v2Signature[0] { return parseV2(bytes) }
    if first == ProxyHeader.v1Signature[0] { return parseV1(bytes) }
    return .notProxy
  }

  /// Whether `bytes` agree with `signature` as far as both go.
  private static func startsLike(_ bytes: UnsafeRawBufferPointer, _ signature: [UInt8]) -> Bool {
    for index in 0..<min(bytes.count, signature.count) where bytes[index] != signature[index] { return false }
    return true
  }

  // MARK: Version 1

  private static func parseV1(_ bytes: UnsafeRawBufferPointer) -> ProxyHeaderParse {
    guard startsLike(bytes, ProxyHeader.v1Signature) else { return .notProxy }
    // The CR of the closing CRLF sits at index 105 at the latest (107 bytes in all).
    let lastCR = ProxyHeader.v1MaxLength - 2
    var end: Int?
    var index = ProxyHeader.v1Signature.count
    while index < bytes.count && index <= lastCR {
      if bytes[index] == UInt8(ascii: "\r") {
        guard index + 1 < bytes.count else { return .needMoreBytes }
        guard bytes[index + 1] == UInt8(ascii: "\n") else { return .invalid("v1 header: CR without LF") }
        end = index
        break
      }
      if bytes[index] == UInt8(ascii: "\n") { return .invalid("v1 header: LF without CR") }
      index += 1
    }
    guard let end else {
      return bytes.count > lastCR ? .invalid("v1 header longer than 107 bytes") : .needMoreBytes
    }
    let line = Array(bytes[ProxyHeader.v1Signature.count..<end])
    let consumed = end + 2
    // `UNKNOWN` may be followed by anything, which receivers ignore.
    if line.starts(with: Array("UNKNOWN".utf8)) && (line.count == 7 || line[7] == UInt8(ascii: " ")) {
      return .complete(.unknown, consumed: consumed)
    }
    let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    guard fields.count == 5 else { return .invalid("v1 header: expected 'TCP4|TCP6 <src> <dst> <sport> <dport>'") }
    let family = fields[0]
    guard family == "TCP4" || family == "TCP6" else { return .invalid("v1 header: unknown protocol '\(family)'") }
    guard let sourcePort = port(fields[3]), let destinationPort = port(fields[4]) else {
      return .invalid("v1 header: a port is not a number from 0 to 65535")
    }
    guard let source = ProxyEndpoint(ip: fields[1], port: sourcePort),
      let destination = ProxyEndpoint(ip: fields[2], port: destinationPort)
    else { return .invalid("v1 header: an address is not an IP address") }
    let size = family == "TCP4" ? 4 : 16
    guard source.address.count == size, destination.address.count == size else {
      return .invalid("v1 header: addresses do not match \(family)")
    }
    return .complete(.proxied(source: source, destination: destination), consumed: consumed)
  }

  /// A decimal port, 1 to 5 digits, at most 65535.
  private static func port(_ text: String) -> Int? {
    guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ (48...57).contains($0) }), let value = Int(text),
      value <= 65535
    else { return nil }
    return value
  }

  // MARK: Version 2

  private static func parseV2(_ bytes: UnsafeRawBufferPointer) -> ProxyHeaderParse {
    let signature = ProxyHeader.v2Signature
    guard startsLike(bytes, signature) else { return .notProxy }
    guard bytes.count >= 16 else { return .needMoreBytes }
    let versionAndCommand = bytes[12]
    guard versionAndCommand >> 4 == 2 else { return .invalid("v2 header: version \(versionAndCommand >> 4), not 2") }
    let command = versionAndCommand & 0x0F
    guard command <= 1 else { return .invalid("v2 header: unknown command \(command)") }
    let familyAndProtocol = bytes[13]
    let length = Int(bytes[14]) << 8 | Int(bytes[15])
    let total = 16 + length
    guard total <= maxLength else { return .invalid("v2 header of \(total) bytes (edge takes up to \(maxLength))") }
    guard bytes.count >= total else { return .needMoreBytes }
    // LOCAL: the addresses (if any) are ignored, as the specification says.
    if command == 0 { return .complete(.local, consumed: total) }
    let family = familyAndProtocol >> 4
    let transport = familyAndProtocol & 0x0F
    guard family <= 3, transport <= 2 else { return .invalid("v2 header: unknown address family or protocol") }
    let addressSize: Int
    switch family {
    case 1: addressSize = 4
    case 2: addressSize = 16
    case 3:
      guard length >= 216 else { return .invalid("v2 header: too short for unix addresses") }
      return .complete(.unknown, consumed: total)
    default:
      return .complete(.unknown, consumed: total)
    }
    guard length >= 2 * addressSize + 4 else { return .invalid("v2 header: too short for its addresses") }
    // Only TCP carries client addresses edge can use; UDP or unspecified is relayed without them.
    guard transport == 1 else { return .complete(.unknown, consumed: total) }
    let source = Array(bytes[16..<16 + addressSize])
    let destination = Array(bytes[16 + addressSize..<16 + 2 * addressSize])
    let ports = 16 + 2 * addressSize
    let sourcePort = Int(bytes[ports]) << 8 | Int(bytes[ports + 1])
    let destinationPort = Int(bytes[ports + 2]) << 8 | Int(bytes[ports + 3])
    return .complete(
      .proxied(
        source: ProxyEndpoint(address: source, port: sourcePort)!,
        destination: ProxyEndpoint(address: destination, port: destinationPort)!),
      consumed: total)
  }
}
