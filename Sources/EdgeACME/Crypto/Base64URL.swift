/// base64url without padding (RFC 4648 §5, as JWS and ACME use it: RFC 7515 §2).
public enum Base64URL {
  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

  public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let input = Array(bytes)
    var output: [UInt8] = []
    output.reserveCapacity((input.count * 4 + 2) / 3)
    var index = 0
    while index + 3 <= input.count {
      let group = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
      for shift in [18, 12, 6, 0] { output.append(alphabet[Int(group >> UInt32(shift) & 63)]) }
      index += 3
    }
    let rest = input.count - index
    if rest > 0 {
      let group = UInt32(input[index]) << 16 | (rest == 2 ? UInt32(input[index + 1]) << 8 : 0)
      let shifts = rest == 2 ? [18, 12, 6] : [18, 12]
      for shift in shifts { output.append(alphabet[Int(group >> UInt32(shift) & 63)]) }
    }
    return String(decoding: output, as: UTF8.self)
  }

  public static func encode(_ text: String) -> String { encode(Array(text.utf8)) }

  /// The bytes, or nil when `text` has a character outside the alphabet or an impossible length.
  /// Trailing `=` padding is tolerated (some CAs hand out padded EAB keys).
  public static func decode(_ text: String) -> [UInt8]? {
    var values: [UInt8] = []
    values.reserveCapacity(text.utf8.count)
    var trimmed = Substring(text)
    while trimmed.last == "=" { trimmed = trimmed.dropLast() }
    for character in trimmed.utf8 {
      switch character {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(character - UInt8(ascii: "A"))
      case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(character - UInt8(ascii: "a") + 26)
      case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(character - UInt8(ascii: "0") + 52)
      case UInt8(ascii: "-"), UInt8(ascii: "+"): values.append(62)
      case UInt8(ascii: "_"), UInt8(ascii: "/"): values.append(63)
      default: return nil
      }
    }
    if values.count % 4 == 1 { return nil }
    var output: [UInt8] = []
    output.reserveCapacity(values.count * 3 / 4)
    var index = 0
    while index < values.count {
      let chunk = values[index..<min(index + 4, values.count)]
      var group: UInt32 = 0
      for (offset, value) in chunk.enumerated() { group |= UInt32(value) << UInt32(18 - 6 * offset) }
      let produced = chunk.count - 1
      for offset in 0..<produced { output.append(UInt8(truncatingIfNeeded: group >> UInt32(16 - 8 * offset))) }
      index += 4
    }
    return output
  }
}
