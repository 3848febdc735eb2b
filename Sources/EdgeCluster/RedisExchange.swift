import Dispatch
import EdgeCore
import EdgeLoop
import EdgeRedis

/// One request within an exchange: a plain command, or a Lua script.
enum RedisRequest: Sendable {
  case command([[UInt8]])
  /// Sent as EVALSHA, and once more as EVAL when the server does not know the script yet (`NOSCRIPT`: a
  /// restarted or flushed server), so the script's text crosses the network only when needed.
  case script(RedisScript, keys: [[UInt8]], arguments: [[UInt8]])
}

/// Redis could not be asked: the connection is down, or no answer came before the deadline. The command may
/// or may not have run. Apart from a server's error reply, which is an answer.
struct RedisUnreachable: Error {
  let detail: String
}

/// A blocking round trip to Redis for a thread that may wait: the requests are pipelined on the client's
/// loop in one hop, and the caller waits for all their replies, or until the deadline.
///
/// The caller and the loop meet in a `Rendezvous`: whichever comes first, the replies or the deadline, wins.
/// Replies arriving after the caller gave up find it abandoned and are dropped; nothing they touch is freed
/// under them, since the loop's callbacks own a reference to the rendezvous.
enum RedisExchange {
  static func run(_ requests: [RedisRequest], on client: RedisClient, timeout: Duration) throws(RedisUnreachable)
    -> [RedisReply]
  {
    precondition(!client.loop.inLoop, "a blocking Redis call on the client's own loop would wait for itself")
    let rendezvous = Rendezvous()
    let deadline = DispatchTime.now() + .milliseconds(Int(clamping: timeout.milliseconds))
    client.loop.execute {
      let collector = ReplyCollector(count: requests.count) { rendezvous.answer($0) }
      for (index, request) in requests.enumerated() {
        send(request, on: client) { collector.receive($0, at: index) }
      }
    }
    guard let result = rendezvous.wait(until: deadline) else {
      throw RedisUnreachable(detail: "no answer within \(timeout)")
    }
    switch result {
    case .success(let replies): return replies
    case .failure(let error): throw RedisUnreachable(detail: error.message)
    }
  }

  /// Sends one request (loop only).
  private static func send(
    _ request: RedisRequest, on client: RedisClient, completion: @escaping (Result<RedisReply, RedisError>) -> Void
  ) {
    switch request {
    case .command(let arguments):
      client.send(arguments, completion: completion)
    case .script(let script, let keys, let arguments):
      client.send(script.command("EVALSHA", keys: keys, arguments: arguments)) { result in
        guard case .success(.error(let message)) = result, message.hasPrefix("NOSCRIPT") else {
          completion(result)
          return
        }
        client.send(script.command("EVAL", keys: keys, arguments: arguments), completion: completion)
      }
    }
  }
}

/// Where a blocked caller waits for the loop's answer. `answer` and `wait` may race at the deadline; the
/// state decides under its lock which one won, so the caller never returns a result it then also timed out
/// on, and an answer after the deadline is ignored.
private final class Rendezvous: Sendable {
  private enum State {
    case waiting
    case answered(Result<[RedisReply], RedisError>)
    case abandoned
  }

  private let state = Locked(State.waiting)
  private let signal = DispatchSemaphore(value: 0)

  /// Called once, on the loop.
  func answer(_ result: Result<[RedisReply], RedisError>) {
    let delivered = state.withLock { state -> Bool in
      guard case .waiting = state else { return false }
      state = .answered(result)
      return true
    }
    if delivered { signal.signal() }
  }

  /// The answer, or nil when the deadline came first (the rendezvous is then abandoned for good).
  func wait(until deadline: DispatchTime) -> Result<[RedisReply], RedisError>? {
    _ = signal.wait(timeout: deadline)
    return state.withLock { state in
      if case .answered(let result) = state { return result }
      state = .abandoned
      return nil
    }
  }
}

/// Gathers the replies of pipelined requests, which may complete out of order (a script's EVAL fallback
/// comes after the commands behind it). Loop only.
private final class ReplyCollector {
  private var replies: [RedisReply?]
  private var missing: Int
  private var finish: ((Result<[RedisReply], RedisError>) -> Void)?

  init(count: Int, finish: @escaping (Result<[RedisReply], RedisError>) -> Void) {
    replies = Array(repeating: nil, count: count)
    missing = count
    self.finish = finish
    if count == 0 { deliver(.success([])) }
  }

  func receive(_ result: Result<RedisReply, RedisError>, at index: Int) {
    switch result {
    case .failure(let error):
      deliver(.failure(error))
    case .success(let reply):
      guard replies[index] == nil else { return }
      replies[index] = reply
      missing -= 1
      if missing == 0 { deliver(.success(replies.map { $0 ?? .null })) }
    }
  }

  /// The first outcome goes to `finish`; after a failure, the other replies are of no use.
  private func deliver(_ result: Result<[RedisReply], RedisError>) {
    let finish = self.finish
    self.finish = nil
    finish?(result)
  }
}
