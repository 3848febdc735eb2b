import EdgeConfig
import EdgeCore
import EdgeHTTP1
import EdgeLoop
import Foundation
import Logging

/// The admin endpoint (Caddy's admin API, the parts edge has): on the control loop, one request per
/// connection.
///
///     POST /load           a new configuration (JSON, or `Content-Type: text/caddyfile`), swapped in
///                          like a SIGHUP reload, or refused with 400 and the reason
///     GET  /config/[path]  the running configuration as JSON, or the value at `path` (keys and indexes)
///     POST /stop           graceful shutdown
///
/// Requests whose Host is not the admin address, or whose Origin is not one of its origins, are refused
/// with 403: a web page cannot reach it through DNS rebinding or a cross-site form.
final class AdminServer {
  static let defaultAddress = "localhost:2019"
  static let maxBody = 4 * 1024 * 1024

  let address: AdminAddress
  let logger: Logger
  private weak var node: Node?
  private var listener: TCPListener?
  private var connections: [ObjectIdentifier: AdminConnection] = [:]

  init(address: AdminAddress, node: Node, logger: Logger) {
    self.address = address
    self.node = node
    self.logger = logger
  }

  func start(on loop: EventLoop) throws(UVError) {
    guard let socket = SocketAddress(ip: address.bindIP, port: address.port) else {
      throw UVError(code: -22, call: "admin address \(address.host)")
    }
    listener = try TCPListener(loop: loop, address: socket) { [unowned self] stream in
      let connection = AdminConnection(server: self, stream: stream)
      self.connections[ObjectIdentifier(connection)] = connection
    }
    if !address.isLoopback {
      logger.warning(
        "the admin endpoint listens beyond loopback: anyone who reaches it can change this node's configuration",
        metadata: ["address": "\(address.host):\(address.port)"])
    }
  }

  func stop() {
    listener?.close()
    listener = nil
  }

  func finished(_ connection: AdminConnection) {
    connections[ObjectIdentifier(connection)] = nil
  }

  // MARK: Requests

  struct Reply {
    let status: Int
    let contentType: String
    let body: [UInt8]
    init(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8") {
      self.status = status
      self.contentType = contentType
      body = Array(text.utf8)
    }
  }

  /// Answers one request, or says why it is refused.
  func handle(_ head: RequestHead, body: [UInt8]) -> (Reply, afterwards: (() -> Void)?) {
    if let host = head.headers["Host"], !address.allowedHosts.contains(host.lowercased()) {
      return (Reply(403, "host '\(host)' is not allowed on the admin endpoint\n"), nil)
    }
    if let origin = head.headers["Origin"] {
      let allowed = address.allowedHosts.flatMap { ["http://\($0)", "https://\($0)"] }
      if !allowed.contains(origin.lowercased()) {
        return (Reply(403, "origin '\(origin)' is not allowed on the admin endpoint\n"), nil)
      }
    }
    guard let node else { return (Reply(503, "the node is gone\n"), nil) }
    let path = String(OriginTarget.split(head.path).path)
    switch (head.method, path) {
    case ("POST", "/load"):
      return (load(head, body: body, node: node), nil)
    case ("POST", "/stop"):
      return (Reply(200, "stopping\n"), { node.stop() })
    case ("GET", _) where path == "/config" || path.hasPrefix("/config/"):
      return (config(path: path, node: node), nil)
    case (_, _) where path.hasPrefix("/config"):
      return (Reply(501, "\(head.method) /config is not supported yet; use POST /load with the whole configuration\n"), nil)
    case (_, "/load"), (_, "/stop"):
      return (Reply(405, "use POST\n"), nil)
    default:
      return (Reply(404, "no admin endpoint \(path); edge has POST /load, GET /config/, POST /stop\n"), nil)
    }
  }

  private func load(_ head: RequestHead, body: [UInt8], node: Node) -> Reply {
    let text = String(decoding: body, as: UTF8.self)
    let type = (head.headers["Content-Type"] ?? "application/json").lowercased()
    do {
      let config: EdgeConfig
      if type.hasPrefix("text/caddyfile") {
        config = try CaddyfileAdapter.adapt(text: text, filename: "POST /load")
      } else if type.hasPrefix("application/json") {
        config = try EdgeConfig(json: text, file: "POST /load")
      } else {
        return Reply(415, "send application/json or text/caddyfile, not '\(type)'\n")
      }
      try node.apply(config)
      logger.info("configuration loaded through the admin endpoint")
      return Reply(200, "")
    } catch {
      logger.error("admin load refused; the running configuration keeps serving", metadata: ["error": "\(error)"])
      return Reply(400, "\(error)\n")
    }
  }

  /// The running configuration, or the part of it at `path` (`/config/sites/0/addresses`).
  private func config(path: String, node: Node) -> Reply {
    let json = node.config.jsonString(pretty: true)
    let whole: Any
    do {
      whole = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
    } catch {
      return Reply(500, "cannot encode the configuration: \(error)\n")
    }
    let value: Any
    do {
      value = try ConfigTree.value(at: path, in: whole)
    } catch {
      return Reply(error.status, "no configuration at \(path): \(error.message)\n")
    }
    guard
      let data = try? JSONSerialization.data(
        withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
    else { return Reply(500, "cannot encode the configuration\n") }
    return Reply(200, String(decoding: data, as: UTF8.self) + "\n", contentType: "application/json")
  }
}

/// One admin connection: reads a request (head, then a Content-Length body), answers, closes.
final class AdminConnection: TCPStreamDelegate {
  unowned let server: AdminServer
  let stream: TCPStream
  private var parser = RequestHeadParser()
  private let inbound = ByteBuffer()
  private var head: RequestHead?
  private var bodyLength = 0
  private var answered = false
  /// A request must arrive within 10 s; an admin client that says nothing is closed.
  private let deadline: LoopTimer

  init(server: AdminServer, stream: TCPStream) {
    self.server = server
    self.stream = stream
    deadline = LoopTimer(loop: stream.loop)
    stream.delegate = self
    stream.startReading()
    deadline.start(after: 10_000) { [unowned self] in self.finish() }
  }

  /// Closes the connection now and forgets it.
  private func finish() {
    deadline.close()
    stream.close { [server, self] in server.finished(self) }
  }

  func streamDidRead(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
    guard !answered else { return }
    inbound.append(bytes)
    if head == nil {
      switch parser.parse(inbound.readable) {
      case .needMoreBytes: return
      case .invalid(let error):
        return reply(AdminServer.Reply(error.status, StatusText.reason(error.status) + "\n"))
      case .complete(let parsed, let consumed):
        inbound.consume(consumed)
        head = parsed
        switch parsed.framing {
        case .none: bodyLength = 0
        case .length(let n):
          guard n <= AdminServer.maxBody else { return reply(AdminServer.Reply(413, "body too large\n")) }
          bodyLength = n
        default:
          return reply(AdminServer.Reply(411, "send a Content-Length\n"))
        }
      }
    }
    guard let head, inbound.count >= bodyLength else { return }
    let body = Array(UnsafeRawBufferPointer(rebasing: inbound.readable[0..<bodyLength]))
    let (answer, afterwards) = server.handle(head, body: body)
    reply(answer)
    afterwards?()
  }

  private func reply(_ reply: AdminServer.Reply) {
    answered = true
    var out = Array("HTTP/1.1 \(reply.status) \(StatusText.reason(reply.status))\r\n".utf8)
    out += Array("Content-Type: \(reply.contentType)\r\nContent-Length: \(reply.body.count)\r\nConnection: close\r\n\r\n".utf8)
    out += reply.body
    deadline.close()
    stream.write(out)
    stream.closeAfterFlush { [server, self] in server.finished(self) }
  }

  func streamDidReachEOF(_ stream: TCPStream) { if !answered { finish() } }
  func streamDidFail(_ stream: TCPStream, _ error: UVError) { finish() }
  func streamDidDrain(_ stream: TCPStream) {}
}

/// The admin endpoint's address, as the `admin` option and `edge reload --address` write it.
public struct AdminAddress: Equatable, Sendable {
  public let host: String
  public let port: Int

  /// `localhost:2019`, `127.0.0.1:2019`, `[::1]:2019`, `0.0.0.0:2019`, `:2019` (every interface).
  public init(parsing text: String) throws(ConfigError) {
    if text.hasPrefix("unix/") { throw ConfigError("admin on a unix socket ('\(text)') is not supported yet") }
    var rest = Substring(text)
    if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
    guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
      (1...65535).contains(port)
    else { throw ConfigError("admin address '\(text)' needs a port, e.g. localhost:2019") }
    var host = String(rest[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    self.host = host.isEmpty ? "0.0.0.0" : host
    self.port = port
  }

  /// The address a client on this machine connects to (the wildcard and localhost are 127.0.0.1).
  public var connectIP: String { ["localhost", "0.0.0.0", "::"].contains(host) ? "127.0.0.1" : host }

  /// The address to bind (localhost is 127.0.0.1).
  var bindIP: String { host == "localhost" ? "127.0.0.1" : host }
  var isLoopback: Bool { ["localhost", "127.0.0.1", "::1"].contains(host) }

  /// Host header values that name this endpoint.
  var allowedHosts: Set<String> {
    var hosts: Set<String> = ["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)"]
    hosts.insert(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    return hosts
  }
}

