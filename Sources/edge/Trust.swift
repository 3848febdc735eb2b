import ArgumentParser
import EdgeConfig
import EdgeServer
import EdgeTLS

struct Trust: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the local CA's root certificate (creating the CA if needed); with --install, run as root, add it to the system's trusted roots.",
    discussion: """
      Clients trust edge's local certificates (sites on localhost, IP addresses, `tls internal`) once they \
      trust this root: `curl --cacert <root.crt>`, or install it system-wide with `sudo edge trust --install`.
      """)
  @OptionGroup var options: ConfigOptions
  @Option(help: "The storage directory (default: the configuration's `storage`, else ~/.local/share/edge).")
  var storage: String?
  @Flag(help: "Print only the root certificate, PEM.") var pem = false
  @Flag(help: "Install the root into the system store (/usr/local/share/ca-certificates; needs root).")
  var install = false

  func run() throws {
    let directory: String
    if let storage {
      directory = storage
    } else {
      do {
        directory = NodeCertificates.storageDirectory(try options.load().0.global)
      } catch {
        printError("edge: \(error)")
        throw ExitCode(1)
      }
    }
    let ca: LocalCA
    do {
      ca = try LocalCA(directory: NodeCertificates.localCADirectory(storage: directory))
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
    if pem {
      print(ca.rootPEM, terminator: "")
      return
    }
    let store = TrustStore()
    // One file per root, so a new CA (another storage directory) never overwrites an older one in use.
    let name = "edge-local-root-" + ca.rootFingerprintSHA256.replacingOccurrences(of: ":", with: "").prefix(16).lowercased()
    print("root certificate: \(ca.directory)/root.crt")
    print("SHA-256 fingerprint: \(ca.rootFingerprintSHA256)")
    if install {
      do {
        try store.installRoot(pem: ca.rootPEM, name: name)
      } catch {
        printError("edge: \(error)")
        throw ExitCode(1)
      }
      print("installed in the system store: \(store.path(forRootNamed: name))")
    } else if store.isInstalled(pem: ca.rootPEM, name: name) {
      print("trusted by the system store: \(store.path(forRootNamed: name))")
    } else {
      print("not in the system store; trust it per client (curl --cacert \(ca.directory)/root.crt) or run: sudo edge trust --install")
    }
  }
}
