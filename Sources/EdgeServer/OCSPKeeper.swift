import EdgeACME
import EdgeCore
import EdgeTLS
import Foundation
import Logging

/// Keeps an OCSP staple on each certificate from storage that names an OCSP responder: fetched when the
/// certificate is loaded, fetched again halfway to its nextUpdate, dropped once nextUpdate passes
/// without a fresh one. A failed fetch keeps the staple it has (until it expires) and retries; a
/// `revoked` answer is never stapled and is logged as an error.
final class OCSPKeeper: Sendable {
  private let tasks = Locked<[ObjectIdentifier: Task<Void, Never>]>([:])
  private let logger: Logger
  /// OCSP responders are plain HTTP by design; this transport is used for nothing else.
  private let transport: (any ACMETransport)?

  init(logger: Logger) {
    self.logger = logger
    var configuration = ACMEHTTPSTransport.Configuration()
    configuration.allowInsecureHTTP = true
    configuration.requestTimeout = .seconds(10)
    transport = try? ACMEHTTPSTransport(configuration: configuration)
  }

  /// Starts keeping `key` (whose chain, as stored, is `chain`) stapled; `replacing` stops the one it
  /// replaces.
  func keep(_ key: CertifiedKey, chainPEM chain: String, name: String, replacing old: CertifiedKey? = nil) {
    if let old { stop(old) }
    guard let transport else { return }
    let logger = self.logger
    let id = ObjectIdentifier(key)
    let task = Task {
      var current: OCSPStaple?
      var failures = 0
      while !Task.isCancelled {
        let wait: TimeInterval
        do {
          guard let staple = try await OCSPFetch.staple(chainPEM: chain, transport: transport) else { return }
          failures = 0
          switch staple.status {
          case .good:
            key.setOCSPResponse(staple.der)
            current = staple
          case .revoked:
            key.setOCSPResponse(nil)
            current = nil
            logger.error("the CA says this certificate is REVOKED; not stapling", metadata: ["name": "\(name)"])
          case .unknown:
            key.setOCSPResponse(nil)
            current = nil
            logger.warning("the OCSP responder does not know this certificate", metadata: ["name": "\(name)"])
          }
          wait = staple.refreshDate(now: Date()).timeIntervalSinceNow
        } catch {
          failures += 1
          if let nextUpdate = current?.nextUpdate, nextUpdate <= Date() {
            key.setOCSPResponse(nil)
            current = nil
          }
          logger.warning("OCSP fetch failed; keeping the staple it has", metadata: ["name": "\(name)", "error": "\(error)"])
          wait = min(60 * pow(2, Double(min(failures, 6))), 3600)
        }
        try? await Task.sleep(for: .milliseconds(Int64(max(wait, 1) * 1000)))
      }
    }
    tasks.withLock { $0[id]?.cancel(); $0[id] = task }
  }

  func stop(_ key: CertifiedKey) {
    tasks.withLock { $0.removeValue(forKey: ObjectIdentifier(key))?.cancel() }
  }
}
