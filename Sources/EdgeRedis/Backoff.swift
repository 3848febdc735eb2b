/// Delays between reconnect attempts: 100 ms doubling to 5 s, each drawn from the upper half of the
/// current step ("equal jitter") so that nodes cut off together do not come back in lockstep.
struct Backoff {
  let initial: UInt64
  let maximum: UInt64
  private var step: UInt64

  init(initialMilliseconds: UInt64 = 100, maximumMilliseconds: UInt64 = 5_000) {
    initial = initialMilliseconds
    maximum = maximumMilliseconds
    step = initialMilliseconds
  }

  /// The delay before the next attempt, in milliseconds; the one after will be twice as long (up to the cap).
  mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> UInt64 {
    let current = step
    step = min(step * 2, maximum)
    let half = current / 2
    return current - half + UInt64.random(in: 0...half, using: &generator)
  }

  mutating func nextDelay() -> UInt64 {
    var generator = SystemRandomNumberGenerator()
    return nextDelay(using: &generator)
  }

  /// After a connection succeeded: the next loss starts again from the shortest delay.
  mutating func reset() { step = initial }
}
