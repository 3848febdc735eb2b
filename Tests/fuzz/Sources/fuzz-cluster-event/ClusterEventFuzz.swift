import FuzzSupport

@testable import EdgeCluster

/// Cluster events as they arrive from Redis pub/sub. Three ways in: the raw payload (signature check
/// first: nothing unsigned may get further), the payload signed with the cluster's key (so the fuzzer
/// reaches the JSON decoding and the age check), and sealed values (`open`). An event that decodes,
/// encoded again, decodes to the same event.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClusterEvent(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = Array(fuzzInput(data, size))
  let now = 1_700_000_000.0
  if let event = try? ClusterEvent.decode(input, secret: secret, now: now) {
    invariant(false, "an unsigned payload was accepted: \(event)")
  }
  let signed = input + [0x0A] + Array(try! secret.signHex(input).utf8)
  if let event = try? ClusterEvent.decode(signed, secret: secret, now: now) {
    invariant(event.ts.isFinite && abs(event.ts - now) <= ClusterEvent.maximumAge, "stale event accepted: \(event.ts)")
    let again = try? ClusterEvent.decode(try event.encoded(secret: secret), secret: secret, now: now)
    invariant(again == event, "event does not survive encoding: \(event)")
    invariant((try? ClusterEvent.decode(signed, secret: otherSecret, now: now)) == nil, "another cluster's key verified")
  }
  if let opened = try? secret.open(input, name: "fuzz") {
    invariant(false, "forged sealed value opened (\(opened.count) bytes)")
  }
  return 0
}

private let secret = try! ClusterSecret(Array("fuzzing-secret-of-at-least-32-bytes!".utf8))
private let otherSecret = try! ClusterSecret(Array("another-cluster-secret-32-bytes-long".utf8))
