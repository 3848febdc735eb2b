import ArgumentParser
import Dispatch
import EdgeACME
import EdgeCluster
import EdgeConfig
import EdgeServer
import EdgeStorage
import EdgeCore
import EdgeTLS
import Foundation

/// `edge certs`: what the node's storage holds.
struct Certs: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Managed certificates in storage.", subcommands: [CertsList.self, CertsRevoke.self],
    defaultSubcommand: CertsList.self)
}

/// `edge certs list`: every certificate in storage with its issuer, expiry, next renewal and files.
struct CertsList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the certificates in storage: name, issuer, not after, next renewal, where stored.")
  @OptionGroup var options: ConfigOptions
  @Option(help: "The storage directory (default: the configuration's `storage`, else ~/.local/share/edge).")
  var storage: String?
  @Flag(help: "One JSON object per certificate instead of a table.") var json = false
  @OptionGroup(title: "Cluster (list the certificates in the cluster's storage instead)")
  var cluster: ClusterConnection

  func run() throws {
    var ratio: Double?
    let directory: String
    if cluster.redis != nil {
      directory = ""
    } else if let storage {
      directory = storage
    } else {
      do {
        let config = try options.load().0
        directory = NodeCertificates.storageDirectory(config.global)
        ratio = config.global.renewalWindowRatio
      } catch {
        printError("edge: \(error)")
        throw ExitCode(1)
      }
    }
    let local = FileStorage(root: directory)
    var agent: ClusterAgent?
    if cluster.redis != nil {
      do { agent = try cluster.tool() } catch {
        printError("edge: \(error)")
        throw ExitCode(1)
      }
    }
    let store: any CertificateStorage = agent?.storage ?? local
    let place = agent.map { "cluster \($0.options.keys.cluster) at \($0.options.redis)" } ?? directory
    let keys = ((try? store.list(StorageKeys.certificatesPrefix, recursive: false)) ?? []).filter { $0.hasSuffix(".crt") }
    let policy = RenewalPolicy(ratio: ratio)
    var rows: [[String]] = []
    for key in keys {
      let base = String(key.dropLast(".crt".count))
      let name = String(base.dropFirst(StorageKeys.certificatesPrefix.count + 1))
      let displayName = name.hasPrefix("wildcard_.") ? "*" + name.dropFirst("wildcard_".count) : name
      let metadata = (try? store.load(base + ".json")).flatMap { try? CertificateMetadata.decode($0) }
      var notAfter = metadata?.notAfter
      if notAfter == nil, let pem = try? store.load(key),
        let certified = try? CertifiedKey(chainPEM: String(decoding: pem, as: UTF8.self), keyPEM: String(decoding: (try? store.load(base + ".key")) ?? [], as: UTF8.self))
      {
        notAfter = Date(timeIntervalSince1970: TimeInterval(certified.notAfter))
      }
      let renewal = metadata.map { policy.dueDate($0, jitter: 0) }
      let file = agent == nil ? (try? local.path(for: key)) ?? key : "redis " + key
      rows.append([
        displayName, metadata?.issuer ?? "(placed by hand)", notAfter.map(Self.format) ?? "?",
        renewal.map(Self.format) ?? (metadata == nil ? "not managed" : "?"), file,
        metadata?.lastError.map { "last error: \($0)" } ?? "",
      ])
    }
    if json {
      for row in rows {
        let object: [String: String] = [
          "name": row[0], "issuer": row[1], "not_after": row[2], "next_renewal": row[3], "file": row[4], "note": row[5],
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
      }
      return
    }
    guard !rows.isEmpty else {
      print("no certificates in \(place)")
      return
    }
    let header = ["NAME", "ISSUER", "NOT AFTER", "NEXT RENEWAL", "STORED AT", ""]
    let table = [header] + rows
    let widths = (0..<header.count).map { column in table.map { $0[column].count }.max() ?? 0 }
    for row in table {
      print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        .trimmingCharacters(in: .whitespaces))
    }
  }

  static func format(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }
}

/// `edge certs revoke NAME`: asks the CA that issued the stored certificate for NAME to revoke it (signed
/// with the certificate's own key, so no account is needed), then moves it aside in storage: a running
/// node obtains a new one at its next check (`edge reload --force` makes that now).
struct CertsRevoke: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "revoke", abstract: "Revoke a certificate in storage at its CA, and set it aside so a new one is obtained.")
  @OptionGroup var options: ConfigOptions
  @Argument(help: "The name the certificate was obtained for (as `edge certs list` shows it).") var name: String
  @Option(help: "unspecified, keyCompromise, superseded or cessationOfOperation.") var reason = "unspecified"
  @OptionGroup(title: "Cluster (revoke a certificate in the cluster's storage; every node stops serving it)")
  var cluster: ClusterConnection

  func run() throws {
    let config: EdgeConfig
    do {
      config = try options.load().0
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
    let reasons: [String: ACMERevocationReason] = [
      "unspecified": .unspecified, "keyCompromise": .keyCompromise, "superseded": .superseded,
      "cessationOfOperation": .cessationOfOperation,
    ]
    guard let why = reasons[reason] else {
      printError("edge: unknown reason '\(reason)'; use \(reasons.keys.sorted().joined(separator: ", "))")
      throw ExitCode(1)
    }
    let local = FileStorage(root: NodeCertificates.storageDirectory(config.global))
    var agent: ClusterAgent?
    if cluster.redis != nil {
      do { agent = try cluster.tool() } catch {
        printError("edge: \(error)")
        throw ExitCode(1)
      }
    }
    let store: any CertificateStorage = agent?.storage ?? local
    let place = agent.map { "cluster \($0.options.keys.cluster) at \($0.options.redis)" } ?? local.root
    guard let chain = try? store.load(StorageKeys.certificate(name)), let key = try? store.load(StorageKeys.privateKey(name)),
      let metadata = (try? store.load(StorageKeys.metadata(name))).flatMap({ try? CertificateMetadata.decode($0) })
    else {
      printError("edge: no managed certificate for '\(name)' in \(place) (edge certs list shows them)")
      throw ExitCode(1)
    }
    // The issuer's settings (its extra roots) from the configuration, when it still lists that CA.
    let issuers = config.sites.flatMap { config.global.issuers(for: $0.tls) } + config.global.defaultIssuers
    var transport = ACMEHTTPSTransport.Configuration()
    transport.extraRootFiles = issuers.first { $0.directory == metadata.issuer }?.trustedRoots ?? []
    let outcome = Locked<Result<Void, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    let chainPEM = String(decoding: chain, as: UTF8.self)
    let keyPEM = String(decoding: key, as: UTF8.self)
    let directory = metadata.issuer
    Task {
      do {
        let client = ACMEClient(
          directoryURL: directory, transport: try ACMEHTTPSTransport(configuration: transport),
          accountKey: try ACMEAccountKey.generate())
        try await client.revoke(certificatePEM: chainPEM, reason: why, certificateKeyPEM: keyPEM)
        outcome.withLock { $0 = .success(()) }
      } catch {
        outcome.withLock { $0 = .failure(error) }
      }
      done.signal()
    }
    done.wait()
    if case .failure(let error) = outcome.withLock({ $0 }) {
      printError("edge: the CA did not revoke the certificate for \(name): \(error)")
      throw ExitCode(1)
    }
    // Set aside, not deleted: the files stay for the record, and the node no longer finds a certificate.
    let stamp = Int(Date().timeIntervalSince1970)
    for key in [StorageKeys.certificate(name), StorageKeys.privateKey(name), StorageKeys.metadata(name)] {
      if let agent {
        // In the cluster: a copy under another name (the key sealed again for it), then the original
        // gone, and every node told to drop it from its cache.
        if let value = try? agent.storage.load(key) {
          try? agent.storage.store(key + ".revoked-\(stamp)", value, secret: key == StorageKeys.privateKey(name))
        }
        try? agent.storage.delete(key)
      } else if let path = try? local.path(for: key) {
        rename(path, path + ".revoked-\(stamp)")
      }
    }
    if let agent {
      do {
        try agent.publishNow(ClusterEvent(type: .certificateDeleted, name: name, node: agent.options.nodeID))
      } catch {
        printError("edge: revoked, but the nodes were not told (\(error)); they drop it when they next reconcile")
      }
    }
    print("revoked the certificate for \(name) (\(reason)) at \(directory); a running node obtains a new one at its next check, or now after 'edge reload --force'")
  }
}
