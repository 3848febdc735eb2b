import EdgeACME
import Foundation

/// The EAB key from /usr/share/doc/pebble/examples/pebble-config-external-account-bindings.json.
let pebbleEABKeyID = "kid-1"
let pebbleEABMACKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

struct PebbleOptions {
  var requireEAB = false
  /// Extra environment (PEBBLE_WFE_NONCEREJECT, PEBBLE_VA_ALWAYS_VALID, PEBBLE_ALTERNATE_ROOTS …).
  var environment: [String: String] = [:]
}

/// A private pebble plus pebble-challtestsrv (its DNS), on free loopback ports, for one test.
final class Pebble: @unchecked Sendable {
  // Invariant: all stored properties are set in `start` and only read afterwards; `stop` runs once.
  let scratch: ScratchDirectory
  let listenPort: Int
  let managementPort: Int
  /// Where pebble's VA connects for HTTP-01 and TLS-ALPN-01.
  let httpPort: Int
  let tlsPort: Int
  let dnsPort: Int
  let challengeServerPort: Int
  /// Pebble's own HTTPS certificate (self-signed): the extra root clients need.
  let serverCertificateFile: URL
  private var processes: [TestProcess] = []

  var directoryURL: String { "https://127.0.0.1:\(listenPort)/dir" }

  private init(scratch: ScratchDirectory) throws {
    self.scratch = scratch
    listenPort = try FreePort.pick()
    managementPort = try FreePort.pick()
    httpPort = try FreePort.pick()
    tlsPort = try FreePort.pick()
    dnsPort = try FreePort.pick(udp: true)
    challengeServerPort = try FreePort.pick()
    serverCertificateFile = scratch.file("pebble-cert.pem")
  }

  /// Starts pebble and challtestsrv; a start that fails (a port taken meanwhile) is tried again on new ports.
  static func start(_ options: PebbleOptions = PebbleOptions()) async throws -> Pebble {
    var failures: [String] = []
    for _ in 0..<3 {
      let pebble = try Pebble(scratch: try ScratchDirectory())
      do {
        try await pebble.launch(options)
        return pebble
      } catch {
        failures.append("\(error)\n--- pebble log ---\n\(pebble.pebbleLog.suffix(1500))")
        pebble.stop()
      }
    }
    throw TestFailure("pebble did not start:\n\(failures.joined(separator: "\n"))")
  }

  private func launch(_ options: PebbleOptions) async throws {
    let key = scratch.file("pebble-key.pem")
    let made = try await run(
      "/usr/bin/openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
        "-subj", "/CN=pebble test server", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", key.path, "-out", serverCertificateFile.path,
      ])
    guard made.status == 0 else { throw TestFailure("openssl req: \(made.output)") }

    var config: [String: Any] = [
      "listenAddress": "127.0.0.1:\(listenPort)", "managementListenAddress": "127.0.0.1:\(managementPort)",
      "certificate": serverCertificateFile.path, "privateKey": key.path, "httpPort": httpPort, "tlsPort": tlsPort,
      "ocspResponderURL": "", "externalAccountBindingRequired": options.requireEAB,
    ]
    if options.requireEAB { config["externalAccountMACKeys"] = [pebbleEABKeyID: pebbleEABMACKey] }
    let configFile = scratch.file("pebble.json")
    try JSONSerialization.data(withJSONObject: ["pebble": config]).write(to: configFile)

    processes.append(
      try TestProcess(
        "/usr/bin/pebble-challtestsrv",
        [
          "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dnsPort)", "-http01", "",
          "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:\(challengeServerPort)",
        ], logFile: scratch.file("challtestsrv.log")))
    let environment = ["PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"].merging(options.environment) { $1 }
    processes.append(
      try TestProcess(
        "/usr/bin/pebble", ["-config", configFile.path, "-dnsserver", "127.0.0.1:\(dnsPort)"], environment: environment,
        logFile: scratch.file("pebble.log")))
    for (port, what) in [(challengeServerPort, "pebble-challtestsrv"), (listenPort, "pebble"), (managementPort, "pebble management")] {
      try await FreePort.waitUntilListening(port, what) { processes.allSatisfy(\.isRunning) }
    }
  }

  /// Stops both processes (by PID) and removes the scratch directory.
  func stop() {
    for process in processes.reversed() { process.stop() }
    processes.removeAll()
    scratch.remove()
  }

  var pebbleLog: String { (try? String(contentsOf: scratch.file("pebble.log"), encoding: .utf8)) ?? "" }

  /// A transport that trusts pebble's HTTPS certificate (and, with `insecure`, plain http for challtestsrv).
  func transport(insecure: Bool = false) throws -> ACMEHTTPSTransport {
    var configuration = ACMEHTTPSTransport.Configuration()
    configuration.extraRootFiles = [serverCertificateFile.path]
    configuration.allowInsecureHTTP = insecure
    configuration.requestTimeout = .seconds(15)
    return try ACMEHTTPSTransport(configuration: configuration)
  }

  func client(
    key: ACMEAccountKey? = nil, binding: ACMEExternalAccountBinding? = nil, options: ACMEClient.Options = .init()
  ) throws -> ACMEClient {
    ACMEClient(
      directoryURL: directoryURL, transport: try transport(), accountKey: try key ?? ACMEAccountKey.generate(),
      contact: ["admin@example.test"], externalAccountBinding: binding, options: options)
  }

  /// The root that signs issued certificates (`index` > 0 for PEBBLE_ALTERNATE_ROOTS).
  func rootPEM(_ index: Int = 0) async throws -> String {
    let response = try await transport().send(
      ACMEHTTPRequest(method: "GET", url: "https://127.0.0.1:\(managementPort)/roots/\(index)"))
    guard response.status == 200 else { throw TestFailure("roots/\(index): \(response.status)") }
    return String(decoding: response.body, as: UTF8.self)
  }

  /// A POST of `json` to challtestsrv's management API (`set-txt`, `clear-txt`, `add-a` …).
  func challengeServer(_ path: String, _ json: [String: Any]) async throws {
    let body = try JSONSerialization.data(withJSONObject: json)
    let response = try await transport(insecure: true).send(
      ACMEHTTPRequest(method: "POST", url: "http://127.0.0.1:\(challengeServerPort)/\(path)", body: Array(body)))
    guard response.status == 200 else { throw TestFailure("challtestsrv \(path): \(response.status)") }
  }

  /// GET on pebble's management API, as text.
  func management(_ path: String) async throws -> (status: Int, body: String) {
    let response = try await transport().send(
      ACMEHTTPRequest(method: "GET", url: "https://127.0.0.1:\(managementPort)/\(path)"))
    return (response.status, String(decoding: response.body, as: UTF8.self))
  }
}

/// Runs `body` with a fresh pebble, stopped afterwards whatever happens.
func withPebble<T>(_ options: PebbleOptions = PebbleOptions(), _ body: (Pebble) async throws -> T) async throws -> T {
  let pebble = try await Pebble.start(options)
  do {
    let result = try await body(pebble)
    pebble.stop()
    return result
  } catch {
    print("pebble log (last 3000 chars):\n\(pebble.pebbleLog.suffix(3000))")
    pebble.stop()
    throw error
  }
}
