import Testing

@testable import EdgeHTTP1

@Suite struct ASCIITests {
  @Test func tcharMaskMatchesTheGrammar() {
    let extra = Set("!#$%&'*+-.^_`|~".utf8)
    for byte in UInt8.min...UInt8.max {
      let alnum = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
      #expect(ASCII.isTchar(byte) == (alnum || extra.contains(byte)), "byte \(byte)")
    }
  }

  @Test func hostMaskMatchesTheGrammar() {
    let extra = Set("-._~!$&'()*+,;=:[]%".utf8)
    for byte in UInt8.min...UInt8.max {
      let alnum = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
      #expect(ASCII.isHostByte(byte) == (alnum || extra.contains(byte)), "byte \(byte)")
    }
  }

  @Test(arguments: [
    ("example.com", true), ("example.com:8080", true), ("[::1]", true), ("[::1]:443", true), ("", true),
    ("a:", true), ("a:b:c", false), ("[::1", false), ("[::1]x", false), ("a]b", false), ("a b", false),
  ])
  func hostValues(value: String, valid: Bool) {
    let bytes = Array(value.utf8)
    #expect(bytes.withUnsafeBytes { ASCII.isValidHost($0, 0..<$0.count) } == valid)
  }
}
