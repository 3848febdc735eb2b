import Foundation
import Testing

@testable import EdgeACME

@Suite("accounts against pebble")
struct AccountTests {
  @Test("an account is created once and found again by its key; pebble's directory has no renewalInfo")
  func createAndLookUp() async throws {
    try await withPebble { pebble in
      let key = try ACMEAccountKey.generate()
      let first = try pebble.client(key: key)
      let url = try await first.account()
      #expect(url.hasPrefix("https://127.0.0.1:\(pebble.listenPort)/"))
      #expect(try await first.account() == url)  // cached

      let again = try pebble.client(key: key)
      #expect(try await again.account() == url)
      let other = try await pebble.client().account()
      #expect(other != url)

      #expect(try await first.directory().renewalInfo == nil)
      #expect(try await first.renewalInfo(certificatePEM: "unused: no renewalInfo") == nil)
    }
  }

  @Test("a CA requiring EAB refuses an account without it and accepts one with it")
  func externalAccountBinding() async throws {
    try await withPebble(PebbleOptions(requireEAB: true)) { pebble in
      #expect(try await pebble.client().directory().meta?.externalAccountRequired == true)
      let error = await #expect(throws: ACMEError.self) { _ = try await pebble.client().account() }
      #expect(error?.kind == .server)
      #expect(error?.problem?.isACMEError("externalAccountRequired") == true, "\(String(describing: error))")

      let key = try ACMEAccountKey.generate()
      let binding = try ACMEExternalAccountBinding(keyID: pebbleEABKeyID, macKey: pebbleEABMACKey)
      let url = try await pebble.client(key: key, binding: binding).account()
      // Found again by key, without spending the binding.
      #expect(try await pebble.client(key: key).account() == url)

      let wrong = try ACMEExternalAccountBinding(keyID: pebbleEABKeyID, macKey: Base64URL.encode(Array("wrong key".utf8)))
      let refused = await #expect(throws: ACMEError.self) { _ = try await pebble.client(binding: wrong).account() }
      #expect(refused?.problem != nil, "\(String(describing: refused))")
    }
  }

  @Test("pebble's HTTPS certificate is refused without the extra root")
  func verifiesServerCertificate() async throws {
    try await withPebble { pebble in
      let client = ACMEClient(
        directoryURL: pebble.directoryURL, transport: try ACMEHTTPSTransport(), accountKey: try ACMEAccountKey.generate())
      let error = await #expect(throws: ACMEError.self) { _ = try await client.directory() }
      #expect(error?.kind == .transport)
      #expect(error?.description.contains("certificate verification failed") == true, "\(String(describing: error))")
    }
  }
}
