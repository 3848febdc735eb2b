/// Wraps a source so that concurrent handshakes for one uncached name cause one lookup, and puts what it
/// finds into a cache so the next handshake does not wait at all.
///
/// Like certmagic after taking its lock, it checks the cache again before asking the source: the name
/// may have been loaded while this handshake was on its way.
public struct CoalescingCertificateSource: CertificateSource {
  public let source: any CertificateSource
  public let cache: CertificateCache?
  private let flights = SingleFlight<String, CertifiedKey?>()

  public init(_ source: any CertificateSource, filling cache: CertificateCache? = nil) {
    self.source = source
    self.cache = cache
  }

  public func certificate(for serverName: String, _ done: @escaping @Sendable (CertifiedKey?) -> Void) {
    let name = serverName.lowercased()
    if let cached = cache?.lookup(serverName: name) { return done(cached) }
    let (source, cache) = (self.source, self.cache)
    flights.run(name, waiter: done) { complete in
      if let cached = cache?.lookup(serverName: name) { return complete(cached) }
      source.certificate(for: name) { key in
        if let key { cache?.insert(key) }
        complete(key)
      }
    }
  }
}
