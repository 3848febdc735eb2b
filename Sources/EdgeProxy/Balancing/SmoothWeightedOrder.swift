/// The turns of smooth weighted round robin (nginx's): for weights 5 1 1 the cycle is a a b a c a a,
/// not a a a a a b c. Each turn every upstream's running total grows by its weight, the largest total
/// wins the turn and gives back the sum of all weights.
///
/// The cycle is worked out once per route table, so picking is an atomic cursor into it, the same cost as
/// plain round robin, instead of a lock around running totals shared by every worker.
public enum SmoothWeightedOrder {
  /// One cycle of turns (upstream indexes) for `weights`, reduced by their greatest common divisor (3 3
  /// gives a b, not a b a b a b). Zero weights never get a turn. Empty when no weight is positive.
  public static func cycle(_ weights: [Int]) -> [Int] {
    func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    let divisor = weights.reduce(0) { gcd($0, max($1, 0)) }
    guard divisor > 0 else { return [] }
    let reduced = weights.map { max($0, 0) / divisor }
    let total = reduced.reduce(0, +)
    var current = [Int](repeating: 0, count: reduced.count)
    var turns: [Int] = []
    turns.reserveCapacity(total)
    for _ in 0..<total {
      var best = -1
      for i in reduced.indices where reduced[i] > 0 {
        current[i] += reduced[i]
        if best < 0 || current[i] > current[best] { best = i }
      }
      current[best] -= total
      turns.append(best)
    }
    return turns
  }
}
