import Foundation
import Testing

@testable import EdgeACME

@Suite("renewal information (RFC 9773)")
struct RenewalInfoTests {
  @Test("renewalInfo GETs <renewalInfo>/<certID> and returns the window, explanation URL and Retry-After")
  func fetchesWindow() async throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let certificateFile = try await makeCertificate(in: scratch, serial: "0x0102", names: "DNS:ari.example.test")
    let certificatePEM = try String(contentsOf: certificateFile, encoding: .utf8)
    let expectedID = "\(Base64URL.encode(try await authorityKeyIdentifier(of: certificateFile))).AQI"
    let requested = SolverLog()
    let server = try TestHTTPServer { request in
      requested.add(request.path)
      if request.path == "/dir" {
        return .text(#"{"newNonce":"http://x/n","newAccount":"http://x/a","newOrder":"http://x/o","renewalInfo":"http://127.0.0.1:\#(request.headers["host"]!.split(separator: ":")[1])/ari/"}"#)
      }
      return .text(
        #"{"suggestedWindow":{"start":"2026-01-02T03:04:05Z","end":"2026-01-03T03:04:05.5Z"},"explanationURL":"https://ca.test/why"}"#,
        headers: [("Retry-After", "21600"), ("Content-Type", "application/json")])
    }
    defer { server.stop() }
    var configuration = ACMEHTTPSTransport.Configuration()
    configuration.allowInsecureHTTP = true
    let client = ACMEClient(
      directoryURL: "http://127.0.0.1:\(server.port)/dir", transport: try ACMEHTTPSTransport(configuration: configuration),
      accountKey: try ACMEAccountKey.generate())

    let info = try #require(try await client.renewalInfo(certificatePEM: certificatePEM))
    #expect(requested.all == ["/dir", "/ari/\(expectedID)"])
    #expect(info.suggestedWindow.start == Date(timeIntervalSince1970: 1_767_323_045))
    #expect(info.suggestedWindow.end == Date(timeIntervalSince1970: 1_767_409_445.5))
    #expect(info.explanationURL == "https://ca.test/why")
    #expect(info.retryAfter == .seconds(21_600))
  }

  @Test("random renewal times fall inside the window; an empty window gives its start")
  func randomTime() {
    let window = ACMERenewalWindow(start: Date(timeIntervalSince1970: 1000), end: Date(timeIntervalSince1970: 2000))
    var seen = Set<Int>()
    for _ in 0..<500 {
      let time = ACMERenewalWindow.randomTime(in: window)
      #expect(time >= window.start && time <= window.end)
      seen.insert(Int(time.timeIntervalSince1970) / 100)
    }
    #expect(seen.count >= 8)  // spread over the window, not clumped
    let empty = ACMERenewalWindow(start: Date(timeIntervalSince1970: 5), end: Date(timeIntervalSince1970: 5))
    #expect(ACMERenewalWindow.randomTime(in: empty) == empty.start)
  }
}
