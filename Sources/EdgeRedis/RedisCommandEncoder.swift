/// Commands in RESP, the form Redis reads them in: an array of bulk strings, binary-safe
/// (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`). Ours rather than hiredis' `redisFormatCommandArgv`: no C
/// allocation per command, and the bytes go straight into the connection's output.
enum RedisCommandEncoder {
  /// Appends `arguments` as one command to `out`.
  static func append(_ arguments: [[UInt8]], to out: inout [UInt8]) {
    out.reserveCapacity(out.count + arguments.reduce(16) { $0 + $1.count + 16 })
    appendHeader(UInt8(ascii: "*"), arguments.count, to: &out)
    for argument in arguments {
      appendHeader(UInt8(ascii: "$"), argument.count, to: &out)
      out += argument
      out += crlf
    }
  }

  static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    append(arguments, to: &out)
    return out
  }

  private static let crlf: [UInt8] = [13, 10]

  private static func appendHeader(_ kind: UInt8, _ count: Int, to out: inout [UInt8]) {
    out.append(kind)
    out += String(count).utf8
    out += crlf
  }
}
