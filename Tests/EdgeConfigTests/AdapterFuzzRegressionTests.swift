import Testing

@testable import EdgeConfig

/// Inputs fuzz-caddyfile-adapter (Tests/fuzz) found, fed again after the fix.
@Suite struct AdapterFuzzRegressionTests {
  /// `{ }` then a lone `,`: the adapter met a second key-less block and its precondition stopped the
  /// process (SIGILL in `edge adapt`/`validate`/`run`). Now an error at the comma.
  @Test func commaAfterGlobalOptionsIsAnErrorNotACrash() {
    #expect(failure("{\n}\n,").hasPrefix("Caddyfile:3:1: ',' is not a site address"))
  }
}
