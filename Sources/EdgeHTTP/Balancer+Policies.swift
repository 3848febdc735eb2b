import EdgeHTTP1
import EdgeProxy
import Foundation

/// One selection: the candidates (available, not yet tried) and the policies over them.
struct Pick {
  let balancer: Balancer
  let targets: [UpstreamTarget]
  let tried: UpstreamSet
  let now: UInt64

  init(balancer: Balancer, targets: [UpstreamTarget], tried: UpstreamSet, now: UInt64) {
    self.balancer = balancer
    self.targets = targets
    self.tried = tried
    self.now = now
  }

  @inline(__always)
  func candidate(_ i: Int) -> Bool { !tried.contains(i) && balancer.isAvailable(targets[i], now: now) }

  func by(_ rule: Balancer.Rule, _ request: Balancer.Request) -> UpstreamTarget? {
    switch rule {
    case .roundRobin:
      let start = Int(balancer.nextTurn() % UInt(targets.count))
      for k in 0..<targets.count where candidate((start + k) % targets.count) { return targets[(start + k) % targets.count] }
      return nil
    case .weighted(let turns):
      guard !turns.isEmpty else { return nil }
      let start = Int(balancer.nextTurn() % UInt(turns.count))
      for k in 0..<turns.count where candidate(turns[(start + k) % turns.count]) {
        return targets[turns[(start + k) % turns.count]]
      }
      return nil
    case .random:
      return random()
    case .randomChoose(let k):
      return randomChoose(k)
    case .leastConn:
      return leastBusy(targets.indices)
    case .first:
      return targets.indices.first(where: candidate).map { targets[$0] }
    case .ipHash:
      return highestScore(StableHash.of(request.remoteIP))
    case .clientIPHash:
      return highestScore(StableHash.of(request.clientIP))
    case .uriHash:
      return highestScore(StableHash.of(request.head.path))
    case .query(let key):
      guard let value = Self.queryValue(request.head.path, key) else { return by(balancer.fallback, request) }
      return highestScore(StableHash.of(value))
    case .header(let field):
      guard let value = request.head.headers[field], !value.isEmpty else { return by(balancer.fallback, request) }
      return highestScore(StableHash.of(value))
    case .host:
      guard let value = request.head.host, !value.isEmpty else { return by(balancer.fallback, request) }
      return highestScore(StableHash.of(value))
    case .cookie(let name):
      if let value = Self.cookie(name, in: request.head.headers) {
        for i in targets.indices where targets[i].cookieValue == value && candidate(i) { return targets[i] }
      }
      return by(balancer.fallback, request)
    }
  }

  /// A uniformly random candidate: count them, then walk to a random one.
  private func random() -> UpstreamTarget? {
    let count = targets.indices.reduce(0) { $0 + (candidate($1) ? 1 : 0) }
    guard count > 0 else { return nil }
    var left = balancer.random(below: count)
    for i in targets.indices where candidate(i) {
      if left == 0 { return targets[i] }
      left -= 1
    }
    return nil
  }

  /// The least busy of `k` candidates drawn at random (reservoir sampling: each candidate is equally
  /// likely to be drawn).
  private func randomChoose(_ k: Int) -> UpstreamTarget? {
    withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { drawn in
      var seen = 0
      for i in targets.indices where candidate(i) {
        if seen < k {
          drawn[seen] = i
        } else {
          let j = balancer.random(below: seen + 1)
          if j < k { drawn[j] = i }
        }
        seen += 1
      }
      return leastBusy(drawn.prefix(min(seen, k)), checked: true)
    }
  }

  /// The candidate among `indexes` with the fewest requests in flight; ties broken at random.
  private func leastBusy<Indexes: Sequence<Int>>(_ indexes: Indexes, checked: Bool = false) -> UpstreamTarget? {
    var best: Int?
    var bestLoad = Int.max
    var ties = 0
    for i in indexes where checked || candidate(i) {
      let load = targets[i].stats.active.load(ordering: .relaxed)
      if load < bestLoad {
        (best, bestLoad, ties) = (i, load, 1)
      } else if load == bestLoad {
        ties += 1
        if balancer.random(below: ties) == 0 { best = i }
      }
    }
    return best.map { targets[$0] }
  }

  /// Rendezvous hashing: the candidate whose score for `key` is highest. An upstream going away moves only
  /// the keys it won; the others keep their upstream.
  private func highestScore(_ key: UInt64) -> UpstreamTarget? {
    var best: Int?
    var bestScore: UInt64 = 0
    for i in targets.indices where candidate(i) {
      let score = StableHash.score(key: key, upstream: targets[i].addressHash)
      if best == nil || score > bestScore { (best, bestScore) = (i, score) }
    }
    return best.map { targets[$0] }
  }

  /// The values of query parameter `key` in `target`, decoded and joined with "," (a client cannot pick
  /// another upstream than the one the application sees by repeating the parameter); nil when absent or
  /// empty.
  static func queryValue(_ target: String, _ key: String) -> String? {
    guard let mark = target.firstIndex(of: "?") else { return nil }
    var values: [String] = []
    for pair in target[target.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      guard decoded(parts[0]) == key else { continue }
      values.append(parts.count > 1 ? decoded(parts[1]) : "")
    }
    let joined = values.joined(separator: ",")
    return joined.isEmpty ? nil : joined
  }

  private static func decoded(_ text: Substring) -> String {
    let spaced = text.replacingOccurrences(of: "+", with: " ")
    return spaced.removingPercentEncoding ?? spaced
  }

  /// The value of cookie `name` in the request's Cookie fields (surrounding double quotes removed).
  static func cookie(_ name: String, in headers: HTTPHeaders) -> String? {
    for field in headers.values("Cookie") {
      for pair in field.split(separator: ";") {
        let trimmed = pair.drop { $0 == " " || $0 == "\t" }
        guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
        var value = trimmed[trimmed.index(after: equals)...]
        while value.last == " " || value.last == "\t" { value = value.dropLast() }
        if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
        return String(value)
      }
    }
    return nil
  }
}
