import ArgumentParser
import EdgeConfig
import EdgeServer
import EdgeStorage
import EdgeTLS
import Foundation

/// `edge certs`: what the node's storage holds.
struct Certs: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Managed certificates in storage.", subcommands: [CertsList.self], defaultSubcommand: CertsList.self)
}

/// `edge certs list`: every certificate in storage with its issuer, expiry, next renewal and files.
struct CertsList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the certificates in storage: name, issuer, not after, next renewal, where stored.")
  @OptionGroup var options: ConfigOptions
  @Option(help: "The storage directory (default: the configuration's `storage`, else ~/.local/share/edge).")
  var storage: String?
  @Flag(help: "One JSON object per certificate instead of a table.") var json = false

  func run() throws {
    var ratio: Double?
    let directory: String
    if let storage {
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
    let store = FileStorage(root: directory)
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
      let file = (try? store.path(for: key)) ?? key
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
      print("no certificates in \(directory)/\(StorageKeys.certificatesPrefix)")
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
