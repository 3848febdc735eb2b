/// Reads a ClientHello from the first bytes a client sends: TLS records (RFC 8446 §5.1), reassembled
/// when the handshake message spans several, then the message itself (§4.1.2). Pure Swift and bounds-checked
/// throughout: malformed or hostile bytes give `.invalid`, never a crash.
public enum ClientHelloParser {
  public enum Outcome: Equatable, Sendable {
    /// More bytes are needed.
    case incomplete
    /// Not a ClientHello this parser accepts (another record type, SSLv2, a malformed message, too large).
    case invalid
    case hello(ClientHello)
  }

  /// The largest ClientHello body read: a record's worth (browsers' post-quantum hellos are under 2 KiB).
  public static let maxMessageLength = 16 * 1024
  /// At most this many records may carry the message (a hello cut into one-byte records is refused).
  public static let maxRecords = 16
  /// What a capture needs to keep to see any hello this parser accepts.
  public static let maxCaptureLength = 4 + maxMessageLength + 5 * maxRecords

  /// The ClientHello at the start of `stream`, or nil when it is incomplete or invalid.
  public static func hello(from stream: [UInt8]) -> ClientHello? {
    if case .hello(let hello) = parse(stream) { return hello }
    return nil
  }

  /// Walks the record headers only (cheap to repeat as bytes arrive), and copies the fragments into one
  /// message once it is complete.
  public static func parse(_ stream: [UInt8]) -> Outcome {
    var fragments: [Range<Int>] = []
    var available = 0
    var header: [UInt8] = []
    var offset = 0
    while stream.count - offset >= 5 {
      // A handshake record (22), protocol major version 3, a length within the record limit.
      guard stream[offset] == 22, stream[offset + 1] == 3 else { return .invalid }
      let length = Int(stream[offset + 3]) << 8 | Int(stream[offset + 4])
      guard (1...16_384).contains(length), fragments.count < maxRecords else { return .invalid }
      let start = offset + 5
      guard stream.count - start >= length else { return .incomplete }
      fragments.append(start..<(start + length))
      for index in start..<(start + min(length, 4 - header.count)) { header.append(stream[index]) }
      available += length
      offset = start + length
      guard header.count == 4 else { continue }
      // msg_type client_hello (1), then a 24-bit length.
      guard header[0] == 1 else { return .invalid }
      let bodyLength = Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
      guard bodyLength <= maxMessageLength else { return .invalid }
      guard available >= 4 + bodyLength else { continue }
      var message: [UInt8] = []
      message.reserveCapacity(available)
      for fragment in fragments { message += stream[fragment] }
      return parseBody(message[4..<(4 + bodyLength)]).map(Outcome.hello) ?? .invalid
    }
    return .incomplete
  }

  /// The ClientHello body: versions, random, session id, suites, compression, then the extensions.
  static func parseBody(_ body: ArraySlice<UInt8>) -> ClientHello? {
    var reader = WireReader(body)
    guard let legacyVersion = reader.u16(), reader.take(32) != nil,
      let sessionID = reader.vector8(), sessionID.count <= 32,
      let suiteBytes = reader.vector16(), let suites = WireReader.u16List(suiteBytes),
      let compression = reader.vector8(), !compression.isEmpty
    else { return nil }
    var hello = ClientHello(legacyVersion: legacyVersion, cipherSuites: suites, extensions: [])
    // Hellos from before TLS 1.2 may end here, without extensions.
    if reader.isAtEnd { return hello }
    guard let block = reader.vector16(), reader.isAtEnd else { return nil }
    var extensions = WireReader(block)
    while !extensions.isAtEnd {
      guard let type = extensions.u16(), let data = extensions.vector16() else { return nil }
      hello.extensions.append(type)
      guard hello.read(extension: type, data) else { return nil }
    }
    return hello
  }
}
