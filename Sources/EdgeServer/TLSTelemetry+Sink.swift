import EdgeTLS

/// What each report adds to the counters.
extension TLSTelemetry {
  public func offered(_ hello: ClientHello?) {
    guard let hello else { return count([(.summary, "client_hellos"), (.summary, "unparsed")]) }
    var items: [(Dimension, String)] = [(.summary, "client_hellos"), (.ja4, hello.ja4)]
    items.append((.sni, hello.hasServerName ? "present" : "absent"))
    for version in Self.distinct(hello.offeredVersions) { items.append((.offeredVersions, TLSNames.version(version))) }
    for cipher in Self.distinct(hello.cipherSuites) { items.append((.offeredCiphers, TLSNames.cipher(cipher))) }
    for group in Self.distinct(hello.supportedGroups) { items.append((.offeredGroups, TLSNames.group(group))) }
    var names = Set<String>()
    for name in hello.applicationProtocols.map(Self.protocolName) where names.insert(name).inserted {
      items.append((.offeredALPN, name))
    }
    count(items)
  }

  public func negotiated(_ negotiation: TLSNegotiation) {
    count([
      (.summary, "completed"), (.versions, negotiation.version), (.ciphers, negotiation.cipher),
      (.alpn, negotiation.applicationProtocol.map { Self.protocolName(Array($0.utf8)) } ?? "none"),
      (.groups, negotiation.group ?? "none"), (.resumption, negotiation.resumed ? "resumed" : "full"),
    ])
  }

  public func failed(_ failure: TLSHandshakeFailureKind) {
    count([(.summary, "failed"), (.failures, failure.description)])
  }

  /// Values without GREASE, each once, in the order sent.
  static func distinct(_ values: [UInt16]) -> [UInt16] {
    var seen = Set<UInt16>()
    return values.filter { !ClientHello.isGREASE($0) && seen.insert($0).inserted }
  }

  /// An ALPN name as counted: itself when it is short printable ASCII, else `0x` and its hex (the first
  /// 32 bytes), so a hostile name cannot smuggle anything into the output.
  static func protocolName(_ bytes: [UInt8]) -> String {
    if !bytes.isEmpty, bytes.count <= 32, bytes.allSatisfy({ (0x21...0x7e).contains($0) }) {
      return String(decoding: bytes, as: UTF8.self)
    }
    return "0x" + bytes.prefix(32).map { byte in
      let digits = String(byte, radix: 16)
      return byte < 16 ? "0" + digits : digits
    }.joined()
  }
}
