import Foundation
import Testing

@testable import EdgeHTTP

@Suite("JSONLine")
struct JSONLineTests {
  private func text(_ build: (inout JSONLine) -> Void) -> String {
    var line = JSONLine()
    build(&line)
    return String(decoding: line.bytes, as: UTF8.self)
  }

  @Test("integers and fixed-point decimals are written digit by digit")
  func numbers() {
    #expect(text { $0.integer(0) } == "0")
    #expect(text { $0.integer(-42) } == "-42")
    #expect(text { $0.integer(Int.max) } == String(Int.max))
    #expect(text { $0.integer(Int.min) } == String(Int.min))
    #expect(text { $0.decimal(1_795_319_981, fraction: 4_200, digits: 6) } == "1795319981.004200")
    #expect(text { $0.decimal(0, fraction: 0, digits: 6) } == "0.000000")
    #expect(text { $0.decimal(3, fraction: 123_456, digits: 6) } == "3.123456")
  }

  @Test("strings are escaped per RFC 8259 and parse back to what went in")
  func strings() throws {
    let samples = [
      "", "plain", "quote\" back\\slash", "new\nline\rtab\t", "\u{0}\u{1}\u{1f}\u{7f}", "héllo ✓", "a\"\"b",
      String(repeating: "x", count: 300) + "\"",
    ]
    for sample in samples {
      let encoded = text { $0.string(sample) }
      let decoded = try JSONSerialization.jsonObject(with: Data(encoded.utf8), options: [.fragmentsAllowed]) as? String
      #expect(decoded == sample, "\(encoded)")
    }
    #expect(text { $0.string("\u{1}") } == #""\u0001""#)
    // Bytes that are not UTF-8 become U+FFFD: the line stays valid JSON.
    let invalid: [UInt8] = [0x61, 0xff, 0x62]
    let encoded = invalid.withUnsafeBytes { raw in text { $0.string(bytes: raw) } }
    #expect(encoded == "\"a\u{FFFD}b\"")
  }
}
