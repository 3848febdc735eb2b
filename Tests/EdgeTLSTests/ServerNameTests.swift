import Testing
@testable import EdgeTLS

@Suite("server_name extension") struct ServerNameTests {
  func encode(_ entries: [(UInt8, [UInt8])]) -> [UInt8] {
    var list: [UInt8] = []
    for (type, name) in entries { list += [type, UInt8(name.count >> 8), UInt8(name.count & 0xff)] + name }
    return [UInt8(list.count >> 8), UInt8(list.count & 0xff)] + list
  }

  func parse(_ bytes: [UInt8]) -> ServerName { bytes.withUnsafeBytes { ServerName.parse($0) } }

  @Test("a host_name is lower-cased and loses its trailing dot") func hostName() {
    #expect(parse(encode([(0, Array("WWW.Example.COM.".utf8))])) == .name("www.example.com"))
    #expect(parse(encode([(1, [1, 2]), (0, Array("a.test".utf8))])) == .name("a.test"))
  }

  @Test("no host_name entry is absent") func absent() {
    #expect(parse(encode([])) == .absent)
    #expect(parse(encode([(1, [1, 2, 3])])) == .absent)
  }

  @Test("bad lengths and bytes are invalid", arguments: [
    [0, 9, 0, 0, 3] + Array("abc".utf8),  // list length too long
    [0, 6, 0, 0, 9] + Array("abc".utf8),  // name length past the end
    [0],
  ])
  func malformed(bytes: [UInt8]) {
    #expect(parse(bytes) == .invalid)
  }

  @Test("names with bytes DNS does not allow are invalid", arguments: ["a b.test", "a/b", "\u{0}x", ".lead", "", "é.test"])
  func badNames(name: String) {
    #expect(parse(encode([(0, Array(name.utf8))])) == .invalid)
  }

  @Test("names longer than 253 bytes are invalid") func long() {
    #expect(parse(encode([(0, Array(String(repeating: "a", count: 254).utf8))])) == .invalid)
    #expect(parse(encode([(0, Array(String(repeating: "a", count: 253).utf8))])) != .invalid)
  }
}
