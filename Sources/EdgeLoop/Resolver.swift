internal import CLibUV
import Glibc

/// Resolves host names to addresses on a loop (libuv's thread pool runs getaddrinfo), caching answers
/// for `ttlMilliseconds`. IP literals are answered at once.
public final class Resolver {
  public let loop: EventLoop
  public var ttlMilliseconds: UInt64 = 30_000
  private var cache: [String: (addresses: [SocketAddress], expires: UInt64)] = [:]
  private var waiting: [String: [(Result<[SocketAddress], UVError>) -> Void]] = [:]

  public init(loop: EventLoop) { self.loop = loop }

  public func resolve(host: String, port: Int, _ done: @escaping (Result<[SocketAddress], UVError>) -> Void) {
    if let literal = SocketAddress(ip: host, port: port) { return done(.success([literal])) }
    let key = "\(host):\(port)"
    if let hit = cache[key], hit.expires > loop.now { return done(.success(hit.addresses)) }
    if waiting[key] != nil {
      waiting[key]!.append(done)
      return
    }
    waiting[key] = [done]
    final class Request {
      let resolver: Resolver
      let key: String
      init(_ resolver: Resolver, _ key: String) {
        self.resolver = resolver
        self.key = key
      }
    }
    let req = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
    req.pointee.data = Unmanaged.passRetained(Request(self, key)).toOpaque()
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_family = AF_UNSPEC
    let status = uv_getaddrinfo(
      loop.raw, req,
      { req, status, info in
        let request = Unmanaged<Request>.fromOpaque(req!.pointee.data).takeRetainedValue()
        req!.deallocate()
        var found: [SocketAddress] = []
        var node = info
        while let entry = node {
          if let addr = entry.pointee.ai_addr, entry.pointee.ai_family == AF_INET || entry.pointee.ai_family == AF_INET6 {
            var storage = sockaddr_storage()
            memcpy(&storage, addr, Int(entry.pointee.ai_addrlen))
            found.append(SocketAddress(storage: storage))
          }
          node = entry.pointee.ai_next
        }
        if info != nil { uv_freeaddrinfo(info) }
        let result: Result<[SocketAddress], UVError> =
          status < 0 ? .failure(UVError(code: status, call: "resolve \(request.key)"))
          : found.isEmpty ? .failure(UVError(code: UV_EAI_NONAME.rawValue, call: "resolve \(request.key)"))
          : .success(found)
        request.resolver.finish(request.key, result)
      }, host, String(port), &hints)
    if status < 0 {
      Unmanaged<AnyObject>.fromOpaque(req.pointee.data).release()
      req.deallocate()
      finish(key, .failure(UVError(code: status, call: "resolve \(key)")))
    }
  }

  private func finish(_ key: String, _ result: Result<[SocketAddress], UVError>) {
    if case .success(let addresses) = result { cache[key] = (addresses, loop.now + ttlMilliseconds) }
    let callbacks = waiting.removeValue(forKey: key) ?? []
    for callback in callbacks { callback(result) }
  }
}

@available(*, unavailable)
extension Resolver: Sendable {}
