import EdgeCluster
import Foundation
import Testing

@Suite struct ClusterEventTests {
  let secret = try! ClusterSecret(Array("a cluster secret of well over thirty-two bytes".utf8))

  @Test func signedEventsRoundTrip() throws {
    let event = ClusterEvent(type: .certificateIssued, name: "a.test", version: "7", node: "n1", ts: 1_800_000_000.25)
    let wire = try event.encoded(secret: secret)
    let text = String(decoding: wire, as: UTF8.self)
    let lines = text.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines[0].contains("\"type\":\"cert.issued\""))
    #expect(lines[1].count == 64)
    #expect(try ClusterEvent.decode(wire, secret: secret, now: 1_800_000_010) == event)
  }

  @Test func forgedChangedOrForeignEventsAreRefused() throws {
    let event = ClusterEvent(type: .configChanged, version: "3", node: "n1", ts: 1_800_000_000)
    let wire = try event.encoded(secret: secret)
    // Another cluster's secret.
    let other = try ClusterSecret(Array("another cluster's secret, also long enough......".utf8))
    #expect(throws: ClusterEvent.DecodeError.badSignature) { try ClusterEvent.decode(wire, secret: other, now: 1_800_000_000) }
    // The JSON changed after signing.
    var changed = wire
    let index = changed.firstIndex(of: UInt8(ascii: "3"))!
    changed[index] = UInt8(ascii: "9")
    #expect(throws: ClusterEvent.DecodeError.badSignature) { try ClusterEvent.decode(changed, secret: secret, now: 1_800_000_000) }
    // No signature, a signature that is not hex, and one a digit short.
    let json = Array(wire[..<wire.lastIndex(of: 0x0A)!])
    #expect(throws: ClusterEvent.DecodeError.self) { try ClusterEvent.decode(json, secret: secret, now: 1_800_000_000) }
    #expect(throws: ClusterEvent.DecodeError.badSignature) {
      try ClusterEvent.decode(json + Array("\nzz".utf8), secret: secret, now: 1_800_000_000)
    }
    #expect(throws: ClusterEvent.DecodeError.badSignature) {
      try ClusterEvent.decode(Array(wire.dropLast()), secret: secret, now: 1_800_000_000)
    }
  }

  @Test func replayedOrFutureEventsAreRefused() throws {
    let event = ClusterEvent(type: .certificateRenewed, name: "a.test", node: "n1", ts: 1_800_000_000)
    let wire = try event.encoded(secret: secret)
    #expect(throws: ClusterEvent.DecodeError.stale(ageSeconds: 301)) { try ClusterEvent.decode(wire, secret: secret, now: 1_800_000_301) }
    #expect(throws: ClusterEvent.DecodeError.stale(ageSeconds: -400)) { try ClusterEvent.decode(wire, secret: secret, now: 1_799_999_600) }
    #expect(try ClusterEvent.decode(wire, secret: secret, now: 1_800_000_299).name == "a.test")
  }

  @Test func signedGarbageIsMalformedNotACrash() throws {
    for body in ["", "{}", "[1,2]", "{\"type\":\"cert.exploded\",\"node\":\"n\",\"ts\":1}", "{\"type\":\"cert.issued\",\"node\":\"n\",\"ts\":\"soon\"}"] {
      let json = Array(body.utf8)
      let wire = json + [0x0A] + Array(try secret.signHex(json).utf8)
      #expect(throws: ClusterEvent.DecodeError.self) { try ClusterEvent.decode(wire, secret: secret, now: 1) }
    }
    #expect(throws: ClusterEvent.DecodeError.self) {
      try ClusterEvent.decode([UInt8](repeating: 0x41, count: 70_000), secret: secret)
    }
  }

  @Test func clusterNamesAreCheckedBeforeTheyBecomeKeys() throws {
    let keys = try ClusterKeys(cluster: "prod-eu.1")
    #expect(keys.config == "edge:prod-eu.1:config")
    #expect(keys.node("n1") == "edge:prod-eu.1:node:n1")
    #expect(keys.events == "edge:prod-eu.1:events")
    for bad in ["", "a:b", "a b", "*", "é", String(repeating: "x", count: 65)] {
      #expect(throws: ClusterNameError.self) { try ClusterKeys(cluster: bad) }
    }
  }
}
