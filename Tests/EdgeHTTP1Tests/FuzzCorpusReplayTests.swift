import Foundation
import Testing

@testable import EdgeHTTP1

/// The fuzz harnesses' seed corpora (Tests/fuzz/corpus), replayed in `swift test` with the harnesses'
/// central check: a head or body read whole and read one byte at a time is read the same.
@Suite struct FuzzCorpusReplayTests {
  static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../fuzz/corpus").standardized

  static func inputs(_ harness: String) -> [[UInt8]] {
    let directory = corpus.appendingPathComponent(harness)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.sorted().compactMap { try? Array(Data(contentsOf: directory.appendingPathComponent($0))) }
  }

  @Test func corporaArePresent() {
    for harness in ["request-head", "response-head", "chunked"] {
      #expect(Self.inputs(harness).count >= 4, "Tests/fuzz/corpus/\(harness)")
    }
  }

  @Test func requestHeadsReadTheSameByteByByte() {
    for input in Self.inputs("request-head") {
      let whole = input.withUnsafeBytes { bytes in
        var parser = RequestHeadParser()
        return describe(parser.parse(bytes))
      }
      var parser = RequestHeadParser()
      var trickled = "needMoreBytes"
      for end in 1...input.count {
        trickled = input[..<end].withUnsafeBytes { describe(parser.parse($0)) }
        if trickled != "needMoreBytes" { break }
      }
      #expect(whole == trickled)
      #expect(whole.hasPrefix("complete"), "a seed that does not parse: \(whole)")
    }
  }

  @Test func responseHeadsParse() {
    for input in Self.inputs("response-head") {
      let method = ["GET", "HEAD", "CONNECT", "POST"][Int(input[0]) % 4]
      var parser = ResponseHeadParser()
      let result = input[1...].withUnsafeBytes { parser.parse($0, requestMethod: method) }
      if case .complete = result {} else { Issue.record("a seed that does not parse: \(result)") }
    }
  }

  @Test func chunkedBodiesDecodeTheSameByteByByte() throws {
    for input in Self.inputs("chunked") {
      let whole = try? decodeChunked(input, cuts: [])
      let trickled = try? decodeChunked(input, cuts: Array(0..<input.count))
      #expect(whole?.body == trickled?.body)
      #expect(whole?.consumed == trickled?.consumed)
    }
  }

  private func describe(_ result: HeadParseResult<RequestHead>) -> String {
    switch result {
    case .complete(let head, let consumed): "complete \(head.method) \(head.path) \(head.headers) \(consumed)"
    case .needMoreBytes: "needMoreBytes"
    case .invalid(let error): "invalid \(error)"
    }
  }
}
