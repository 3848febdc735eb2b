import EdgeACME
import Foundation

/// TLS-ALPN-01: a Python `ssl` server on pebble's tlsPort that answers `acme-tls/1` handshakes with the
/// challenge certificate for the SNI name (`ACMETLSALPN01.challengeCertificate`, written by `present`).
struct TLSALPN01Solver: ACMEChallengeSolver {
  let challengeType = "tls-alpn-01"
  let directory: URL
  let log = SolverLog()

  func present(identifier: String, token: String, keyAuthorization: String) async throws {
    let (certificate, key) = try ACMETLSALPN01.challengeCertificate(identifier: identifier, keyAuthorization: keyAuthorization)
    try key.write(to: directory.appendingPathComponent("\(identifier).key"), atomically: true, encoding: .utf8)
    try certificate.write(to: directory.appendingPathComponent("\(identifier).crt"), atomically: true, encoding: .utf8)
    log.add("present \(identifier)")
  }

  func cleanUp(identifier: String, token: String, keyAuthorization: String) async {
    for suffix in ["crt", "key"] {
      try? FileManager.default.removeItem(at: directory.appendingPathComponent("\(identifier).\(suffix)"))
    }
    log.add("cleanUp \(identifier)")
  }

  /// Starts the server on `port`, serving certificates from `directory`.
  static func startServer(port: Int, directory: URL) async throws -> TestProcess {
    let script = try ScratchDirectory.write(tlsALPNServerScript, to: directory.appendingPathComponent("alpn_server.py"))
    let process = try TestProcess(
      "/usr/bin/python3", [script.path, String(port), directory.path], logFile: directory.appendingPathComponent("alpn.log"))
    try await FreePort.waitUntilListening(port, "TLS-ALPN-01 test server")
    return process
  }
}

extension ScratchDirectory {
  static func write(_ text: String, to url: URL) throws -> URL {
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
  }
}

private let tlsALPNServerScript = #"""
import os, signal, socket, ssl, sys, threading

signal.pthread_sigmask(signal.SIG_SETMASK, [])  # the test runner's thread had SIGTERM blocked
port, directory = int(sys.argv[1]), sys.argv[2]

def context(name=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_alpn_protocols(["acme-tls/1"])
    if name:
        ctx.load_cert_chain(os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key"))
    return ctx

def choose(sock, name, _):
    try:
        sock.context = context(name)
    except OSError as error:
        print("no certificate for", name, error, flush=True)
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

base = context()
base.sni_callback = choose

def handle(connection):
    try:
        with base.wrap_socket(connection, server_side=True) as tls:
            print("served", tls.selected_alpn_protocol(), flush=True)
    except Exception as error:
        print("handshake failed:", error, flush=True)

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(16)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=handle, args=(connection,), daemon=True).start()
"""#
