/// The completions of commands sent and not yet answered, oldest first: Redis answers in order, so each
/// reply belongs to the oldest. A ring of indexes over one array: pipelining thousands of commands costs
/// no shifting.
struct ReplyQueue {
  typealias Completion = (RedisReply?) -> Void
  private var entries: [Completion?] = []
  private var head = 0

  var isEmpty: Bool { head == entries.count }
  var count: Int { entries.count - head }

  mutating func append(_ completion: @escaping Completion) {
    entries.append(completion)
  }

  mutating func popFirst() -> Completion? {
    guard head < entries.count else { return nil }
    let first = entries[head]
    entries[head] = nil
    head += 1
    if head == entries.count {
      entries.removeAll(keepingCapacity: true)
      head = 0
    } else if head >= 1024 && head * 2 >= entries.count {
      entries.removeFirst(head)
      head = 0
    }
    return first
  }

  /// Empties the queue, returning what was in it, oldest first.
  mutating func removeAll() -> [Completion] {
    let rest = entries[head...].compactMap { $0 }
    entries = []
    head = 0
    return rest
  }
}
