/// Hashes that are the same in every process and on every node (Swift's `Hasher` is seeded per
/// process): two edge nodes behind one DNS name send a client, a URI or a header value to the same
/// upstream, and so does a node after a restart.
public enum StableHash {
  /// FNV-1a (64-bit) of `bytes`: quick for the short keys balancing hashes (an address, a URI).
  public static func fnv1a<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
      hash ^= UInt64(byte)
      hash &*= 0x0000_0100_0000_01b3
    }
    return hash
  }

  public static func of(_ text: String) -> UInt64 { fnv1a(text.utf8) }

  /// A 64-bit finaliser (the splitmix64 output function): every input bit moves about half the output
  /// bits, which FNV alone does poorly on its last bytes.
  @inline(__always)
  public static func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }

  /// The rendezvous (highest random weight) score of `key` for an upstream whose address hashes to
  /// `upstream`. Each upstream's score depends on the key and that upstream alone, so the highest-scoring
  /// available upstream only changes for the keys whose winner went away or came back.
  @inline(__always)
  public static func score(key: UInt64, upstream: UInt64) -> UInt64 {
    mix(key ^ mix(upstream))
  }
}
