import Testing
@testable import EdgeTLS

/// Where the expected values come from:
/// - `t13d1516h2_8daaf6152771_e5627efa2ab1` and the `6d807ffa2a79` of a hello without signature
///   algorithms: the worked example of FoxIO's JA4 specification (github.com/FoxIO-LLC/ja4,
///   technical_details/JA4.md), whose JA4_ro lists the example's ciphers, extensions and signature
///   algorithms in wire order; the hello below is built from that list.
/// - `t13d1516h2_8daaf6152771_d8a2da3f94cd`: Chrome 143 as captured by browserleaks.com (its published
///   ja4 and ja4_ro, with ECH 0xfe0d and ALPS 0x44cd, which OpenSSL 3.0 would not report).
/// - the others: by hand from the specification, the hashes with Python
///   (`hashlib.sha256(b"...").hexdigest()[:12]`), the strings shown next to each.
@Suite("JA4 fingerprint") struct JA4Tests {
  typealias B = ClientHelloBuilder

  static let specCiphers = hexList("1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035")
  static let specSchemes = hexList("0403,0804,0401,0503,0805,0501,0806,0601")

  /// A hello with the given extension types in wire order (contents the fingerprint reads filled in).
  static func hello(ciphers: [UInt16], extensions: [UInt16], schemes: [UInt16], alpn: [String] = ["h2", "http/1.1"]) -> [UInt8] {
    var builder = ClientHelloBuilder()
    builder.ciphers = ciphers
    builder.extensions = extensions.map { type in
      switch type {
      case 0x0000: B.serverName("example.com")
      case 0x0010: B.alpn(alpn)
      case 0x002b: B.supportedVersions([0x2a2a, 0x0304, 0x0303])
      case 0x000d: B.signatureAlgorithms(schemes)
      case 0x000a: B.groups([0x2a2a, 0x001d, 0x0017])
      default: B.opaque(type)
      }
    }
    return builder.records()
  }

  func ja4(_ stream: [UInt8]) throws -> String { try #require(ClientHelloParser.hello(from: stream)).ja4 }

  @Test("the specification's example, with GREASE added, gives its published fingerprint") func specExample() throws {
    let extensions = hexList("001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015")
    // GREASE in the cipher and extension lists must change nothing.
    let stream = Self.hello(ciphers: [0x0a0a] + Self.specCiphers, extensions: [0xfafa] + extensions, schemes: Self.specSchemes)
    #expect(try ja4(stream) == "t13d1516h2_8daaf6152771_e5627efa2ab1")
    // Without signature algorithms the list ends without an underscore (JA4.md: = 6d807ffa2a79).
    let noSchemes = Self.hello(ciphers: Self.specCiphers, extensions: extensions, schemes: [])
    #expect(try ja4(noSchemes) == "t13d1516h2_8daaf6152771_6d807ffa2a79")
  }

  @Test("Chrome 143 as published by browserleaks.com") func chrome() throws {
    let extensions = hexList("002d,0033,0010,fe0d,0017,44cd,0000,000b,000a,002b,ff01,0023,0012,0005,000d,001b")
    let stream = Self.hello(
      ciphers: [0x3a3a] + Self.specCiphers, extensions: [0x5a5a] + extensions + [0x9a9a], schemes: Self.specSchemes)
    #expect(try ja4(stream) == "t13d1516h2_8daaf6152771_d8a2da3f94cd")
  }

  @Test("the ALPN part, the specification's examples") func alpn() {
    func part(_ names: [[UInt8]]) -> String {
      var hello = ClientHello(legacyVersion: 0x0303, cipherSuites: [], extensions: [])
      hello.applicationProtocols = names
      return hello.ja4ALPN
    }
    #expect(part([Array("h2".utf8)]) == "h2")
    #expect(part([Array("http/1.1".utf8), Array("h2".utf8)]) == "h1")
    #expect(part([Array("h".utf8)]) == "hh")
    #expect(part([]) == "00")
    #expect(part([[]]) == "00")
    #expect(part([[0xab]]) == "ab")
    #expect(part([[0xab, 0xcd]]) == "ad")
    #expect(part([[0x30, 0xab]]) == "3b")
    #expect(part([[0x30, 0x31, 0xab, 0xcd]]) == "3d")
    #expect(part([[0x30, 0xab, 0xcd, 0x31]]) == "01")
  }

  @Test("empty lists hash to twelve zeros") func empty() throws {
    var builder = ClientHelloBuilder()
    builder.ciphers = []
    builder.extensions = nil
    #expect(try ja4(builder.records()) == "t12i000000_000000000000_000000000000")
    // Only SNI and ALPN: counted in a, but nothing is left to hash in c.
    // b: sha256(b"1301")[:12] = 0f2cb44170f4 (computed with Python)
    let stream = Self.hello(ciphers: [0x1301], extensions: [0x0000, 0x0010], schemes: [])
    #expect(try ja4(stream) == "t12d0102h2_0f2cb44170f4_000000000000")
  }

  @Test("versions: highest of supported_versions without GREASE, else legacy; unknown is 00") func versions() throws {
    var builder = ClientHelloBuilder()
    builder.legacyVersion = 0x0301
    builder.extensions = nil
    #expect(try ja4(builder.records()).hasPrefix("t10i0100"))
    builder.legacyVersion = 0x0303
    builder.extensions = [B.supportedVersions([0x7a7a])]  // GREASE only: the legacy version
    #expect(try ja4(builder.records()).hasPrefix("t12i0101"))
    builder.extensions = [B.supportedVersions([0x0303, 0x0302])]
    #expect(try ja4(builder.records()).hasPrefix("t12i0101"))
    builder.extensions = [B.supportedVersions([0x7f1c])]  // a TLS 1.3 draft
    #expect(try ja4(builder.records()).hasPrefix("t00i0101"))
  }

  @Test("counts stop at 99") func caps() throws {
    var builder = ClientHelloBuilder()
    builder.ciphers = (1...120).map { UInt16($0) }
    builder.extensions = (0x0100..<0x0100 + 105).map { B.opaque(UInt16($0)) }
    #expect(try ja4(builder.records()).hasPrefix("t12i999900_"))
  }

  @Test("a hand-computed case: no SNI, ALPN not alphanumeric, signature algorithms kept in order") func handComputed() throws {
    // a: "h2!" ends in a non-alphanumeric byte: its hex 683221 gives "61".
    // b: sha256(b"0035,c02f")[:12] = 1584f0a67932; c: sha256(b"000a,000d,002b_0804,0403")[:12] = 47b461364fc6
    // (Python)
    let stream = Self.hello(
      ciphers: [0xc02f, 0x0035], extensions: [0x002b, 0x0010, 0x000d, 0x000a], schemes: [0x0804, 0x0403], alpn: ["h2!"])
    #expect(try ja4(stream) == "t13i020461_1584f0a67932_47b461364fc6")
  }
}
