import Testing

@testable import EdgeHTTP1

@Suite struct RequestLimitTests {
  let limits = HTTP1Limits(maxHeadBytes: 1024, maxURIBytes: 100, maxHeaderCount: 5)

  @Test func targetAtTheLimitIsAccepted() {
    var parser = RequestHeadParser(limits: limits)
    let target = "/" + String(repeating: "a", count: 99)
    let bytes = Array("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
    guard case .complete(let head, _) = bytes.withUnsafeBytes({ parser.parse($0) }) else {
      Issue.record("not accepted")
      return
    }
    #expect(head.target == target)
  }

  @Test func longTargetIsRejectedBeforeTheLineEnds() {
    var parser = RequestHeadParser(limits: limits)
    // 101 bytes of target and no end of line in sight.
    let bytes = Array(("GET /" + String(repeating: "a", count: 100)).utf8)
    let result = bytes.withUnsafeBytes { parser.parse($0) }
    guard case .invalid(let error) = result else {
      Issue.record("expected 414, got \(result)")
      return
    }
    #expect(error == HTTP1Error(status: 414, reason: .uriTooLong))
  }

  @Test func longTargetInACompleteHeadIsRejected() {
    let text = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: a\r\n\r\n"
    #expect(requestError(text, limits: limits) == HTTP1Error(status: 414, reason: .uriTooLong))
  }

  @Test func longTargetFedByteByByteIsRejectedEarly() {
    var parser = RequestHeadParser(limits: limits)
    let all = Array(("GET /" + String(repeating: "a", count: 200)).utf8)
    for end in 1...all.count {
      let result = Array(all[0..<end]).withUnsafeBytes { parser.parse($0) }
      if case .invalid(let error) = result {
        #expect(error.status == 414)
        #expect(end == 4 + 101)
        return
      }
    }
    Issue.record("never rejected")
  }

  @Test func largeHeadIsRejectedBeforeCompletion() {
    var parser = RequestHeadParser(limits: limits)
    let bytes = Array(("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 2000)).utf8)
    let result = bytes.withUnsafeBytes { parser.parse($0) }
    guard case .invalid(let error) = result else {
      Issue.record("expected 431, got \(result)")
      return
    }
    #expect(error == HTTP1Error(status: 431, reason: .headTooLarge))
  }

  @Test func headExactlyAtTheLimitIsAccepted() {
    let start = "GET / HTTP/1.1\r\nHost: a\r\nX: "
    let padding = String(repeating: "p", count: 1024 - start.utf8.count - 4)
    let text = start + padding + "\r\n\r\n"
    #expect(text.utf8.count == 1024)
    var parser = RequestHeadParser(limits: limits)
    let result = Array(text.utf8).withUnsafeBytes { parser.parse($0) }
    guard case .complete = result else {
      Issue.record("expected complete, got \(result)")
      return
    }
    #expect(requestError(start + padding + "p\r\n\r\n", limits: limits)?.status == 431)
  }

  @Test func tooManyFieldsIsRejectedBeforeCompletion() {
    var parser = RequestHeadParser(limits: limits)
    var text = "GET / HTTP/1.1\r\nHost: a\r\n"
    for i in 0..<5 { text += "X-\(i): v\r\n" }
    let bytes = Array(text.utf8)
    let result = bytes.withUnsafeBytes { parser.parse($0) }
    guard case .invalid(let error) = result else {
      Issue.record("expected 431, got \(result)")
      return
    }
    #expect(error == HTTP1Error(status: 431, reason: .tooManyFields))
  }

  @Test func fieldCountAtTheLimitIsAccepted() {
    var text = "GET / HTTP/1.1\r\nHost: a\r\n"
    for i in 0..<4 { text += "X-\(i): v\r\n" }
    var parser = RequestHeadParser(limits: limits)
    let result = Array((text + "\r\n").utf8).withUnsafeBytes { parser.parse($0) }
    guard case .complete(let head, _) = result else {
      Issue.record("expected complete, got \(result)")
      return
    }
    #expect(head.headers.count == 5)
  }

  @Test func endlessEmptyLinesAreRejected() {
    let text = String(repeating: "\r\n", count: 600)
    #expect(requestError(text, limits: limits)?.status == 431)
  }
}
