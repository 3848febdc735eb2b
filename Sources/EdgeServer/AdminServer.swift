import EdgeConfig
import EdgeCore
import EdgeHTTP1
import EdgeLoop
import EdgeMetrics
import Foundation
import Logging

/// The admin endpoint (Caddy's admin API, the parts edge has): on the control loop, one request per
/// connection.
///
///     POST /load           a new configuration (JSON, or `Content-Type: text/caddyfile`), swapped in
///                          like a SIGHUP reload, or refused with 400 and the reason; the same
///                          configuration again is not reloaded unless `Cache-Control: must-revalidate`
///     GET  /config/[path]  the running configuration as JSON, or the value at `path` (keys and indexes),
///                          with an ETag
///     POST|PUT|PATCH|DELETE /config/[path]
///                          changes the value at `path` (see `ConfigTree`) and loads the result; with
///                          `If-Match`, only if the configuration is still the one that ETag names
///     GET  /reverse_proxy/upstreams
///                          every upstream address with its requests in flight and its health
///     GET  /metrics        Prometheus metrics (text format 0.0.4)
///     GET  /health         200 while the node's control loop answers
///     GET  /ready          200 when listeners are up, a configuration is loaded and storage answers;
///                          503 otherwise (and while draining for a shutdown), with the checks as JSON
///     GET  /telemetry      the TLS telemetry counters (the `telemetry` option)
///     POST /stop           graceful shutdown
///
/// Requests whose Host is not the admin address (or one of `origins`), or whose Origin is not allowed,
/// are refused with 403: a web page cannot reach it through DNS rebinding or a cross-site form. On a
/// unix socket the file's permissions (0600) decide who may connect, and on a wildcard address (the
/// node's names are not known), only Origin is checked.
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
    let accept: (TCPStream) -> Void = { [unowned self] stream in
      let connection = AdminConnection(server: self, stream: stream)
      self.connections[ObjectIdentifier(connection)] = connection
    }
    if let path = address.unixPath {
      listener = try TCPListener(loop: loop, unixPath: path, onAccept: accept)
      return
    }
    guard let socket = SocketAddress(ip: address.bindIP, port: address.port) else {
      throw UVError(code: -22, call: "admin address \(address.host)")
    }
    // One process per admin address: a second node on this machine must not answer half its requests.
    listener = try TCPListener(loop: loop, address: socket, reusePort: false, onAccept: accept)
    if !address.isLoopback {
      logger.warning(
        "the admin endpoint listens beyond loopback: anyone who reaches it can change this node's configuration",
        metadata: ["address": "\(address.host):\(address.port)"])
    }
  }

  func stop() {
    listener?.close()
    listener = nil
    if let path = address.unixPath { unlink(path) }
  }

  func finished(_ connection: AdminConnection) {
    connections[ObjectIdentifier(connection)] = nil
  }

  // MARK: Requests

  struct Reply {
    let status: Int
    let contentType: String
    let body: [UInt8]
    let etag: String?
    init(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8", etag: String? = nil) {
      self.init(status, bytes: Array(text.utf8), contentType: contentType, etag: etag)
    }
    init(_ status: Int, bytes: [UInt8], contentType: String, etag: String? = nil) {
      self.status = status
      self.contentType = contentType
      body = bytes
      self.etag = etag
    }
  }

  /// Answers one request, or says why it is refused.
  func handle(_ head: RequestHead, body: [UInt8]) -> (Reply, afterwards: (() -> Void)?) {
    guard let node else { return (Reply(503, "the node is gone\n"), nil) }
    if let refusal = refusal(head, node.config.global) { return (refusal, nil) }
    let path = String(OriginTarget.split(head.path).path)
    switch (head.method, path) {
    case ("POST", "/load"):
      return (load(head, body: body, node: node), nil)
    case ("POST", "/stop"):
      return (Reply(200, "stopping\n"), { node.stop() })
    case ("GET", _) where path == "/config" || path.hasPrefix("/config/"):
      return (config(path: path, node: node), nil)
    case (_, _) where path == "/config" || path.hasPrefix("/config/"):
      return (change(head, path: path, body: body, node: node), nil)
    case ("GET", "/reverse_proxy/upstreams"):
      return (upstreams(node), nil)
    case ("GET", "/cluster"):
      return (cluster(node), nil)
    case ("GET", "/metrics"):
      return (Reply(200, bytes: EdgeMetrics.exposition(), contentType: EdgeMetrics.contentType), nil)
    case ("GET", "/health"):
      return (Reply(200, "{\"status\":\"ok\"}\n", contentType: "application/json"), nil)
    case ("GET", "/ready"):
      return (ready(node), nil)
    case ("GET", "/telemetry"):
      return (telemetry(node), nil)
    case (_, "/load"), (_, "/stop"):
      return (Reply(405, "use POST\n"), nil)
    case (_, "/reverse_proxy/upstreams"), (_, "/cluster"), (_, "/metrics"), (_, "/health"), (_, "/ready"), (_, "/telemetry"):
      return (Reply(405, "use GET\n"), nil)
    default:
      return (
        Reply(404, "no admin endpoint \(path); edge has POST /load, /config/[path], GET /reverse_proxy/upstreams, GET /cluster, GET /metrics, GET /health, GET /ready, GET /telemetry, POST /stop\n"),
        nil
      )
    }
  }

  /// 403 for a Host or Origin this endpoint does not answer (DNS rebinding, cross-site requests).
  private func refusal(_ head: RequestHead, _ options: GlobalOptions) -> Reply? {
    let extra = options.adminOrigins ?? []
    // As Caddy: on a wildcard address the node is reached by whatever names it has, so only Origin is
    // checked there (listening beyond loopback is warned about at start).
    let checksHost = address.unixPath == nil && !["0.0.0.0", "::"].contains(address.host)
    if checksHost, let host = head.headers["Host"], !address.allowedHosts(extra: extra).contains(host.lowercased()) {
      return Reply(403, "host '\(host)' is not allowed on the admin endpoint\n")
    }
    if let origin = head.headers["Origin"] {
      if !address.allowedOrigins(extra: extra).contains(origin.lowercased()) {
        return Reply(403, "origin '\(origin)' is not allowed on the admin endpoint\n")
      }
    } else if options.adminEnforceOrigin {
      return Reply(403, "this admin endpoint requires an Origin header (enforce_origin)\n")
    }
    return nil
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
      if Self.sameBehaviour(config, node.config),
        !(head.headers["Cache-Control"]?.lowercased().contains("must-revalidate") ?? false)
      {
        logger.info("admin load: the configuration is unchanged; not reloaded (send Cache-Control: must-revalidate to force)")
        return Reply(200, "")
      }
      try node.load(config)
      logger.info("configuration loaded through the admin endpoint")
      return Reply(200, "")
    } catch {
      node.countReload(applied: false)
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
    let etag = Self.etag(node.config)
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
    return Reply(200, String(decoding: data, as: UTF8.self) + "\n", contentType: "application/json", etag: etag)
  }

  /// `POST|PUT|PATCH|DELETE /config/[path]`: the running configuration with the value at `path` changed,
  /// checked as a whole and loaded (zero downtime), or refused with the reason.
  private func change(_ head: RequestHead, path: String, body: [UInt8], node: Node) -> Reply {
    guard ["POST", "PUT", "PATCH", "DELETE"].contains(head.method) else {
      return Reply(405, "use GET, POST, PUT, PATCH or DELETE on /config/\n")
    }
    if let wanted = head.headers["If-Match"], wanted != Self.etag(node.config) {
      return Reply(412, "the configuration changed since \(wanted) was read; GET it again\n")
    }
    var value: Any?
    if head.method != "DELETE" {
      let type = (head.headers["Content-Type"] ?? "").lowercased()
      guard type.contains("/json") else { return Reply(415, "send the new value as application/json\n") }
      do {
        value = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
      } catch {
        return Reply(400, "the body is not JSON: \(error.localizedDescription)\n")
      }
    }
    let changed: Any
    do {
      let current = try JSONSerialization.jsonObject(with: Data(node.config.jsonString(pretty: false).utf8))
      changed = try ConfigTree.apply(head.method, path: path, body: value, to: current)
    } catch let error as ConfigTreeError {
      return Reply(error.status, "\(error.message)\n")
    } catch {
      return Reply(500, "cannot read the running configuration: \(error)\n")
    }
    guard changed is [String: Any],
      let data = try? JSONSerialization.data(withJSONObject: changed, options: [.fragmentsAllowed])
    else {
      return Reply(400, "that would leave no configuration; POST /stop stops the node\n")
    }
    do {
      let config = try EdgeConfig(json: String(decoding: data, as: UTF8.self), file: "\(head.method) \(path)")
      try node.load(config)
      logger.info("configuration changed through the admin endpoint", metadata: ["method": "\(head.method)", "path": "\(path)"])
      return Reply(200, "", etag: Self.etag(config))
    } catch {
      node.countReload(applied: false)
      logger.error("admin change refused; the running configuration keeps serving", metadata: ["error": "\(error)"])
      return Reply(400, "\(error)\n")
    }
  }

  /// `GET /ready`: 200 or 503, with each check and why.
  private func ready(_ node: Node) -> Reply {
    let checks = node.readiness()
    let ready = checks.allSatisfy(\.ok)
    let body: [String: Any] = [
      "ready": ready,
      "checks": Dictionary(uniqueKeysWithValues: checks.map { ($0.name, ["ok": $0.ok, "detail": $0.detail] as [String: Any]) }),
    ]
    guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return Reply(500, "cannot encode the checks\n") }
    return Reply(ready ? 200 : 503, String(decoding: data, as: UTF8.self) + "\n", contentType: "application/json")
  }

  /// `GET /reverse_proxy/upstreams`: Caddy's list (`address`, `num_requests`, `fails`) for every upstream
  /// of the running configuration, with edge's `healthy` (load balancing may pick it), `active_health`
  /// (healthy, unhealthy or unchecked) and `requests_total`.
  private func upstreams(_ node: Node) -> Reply {
    let list = node.routes.upstreamStatus().map { status -> [String: Any] in
      [
        "address": status.address, "num_requests": status.active, "fails": status.fails, "healthy": status.healthy,
        "active_health": status.activeHealth.name, "requests_total": status.total,
      ]
    }
    guard let data = try? JSONSerialization.data(withJSONObject: list, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    else { return Reply(500, "cannot encode the upstreams\n") }
    return Reply(200, String(decoding: data, as: UTF8.self) + "\n", contentType: "application/json")
  }

  /// `GET /cluster`: this node's view of its cluster (404 for a node alone): Redis reachable or not, the
  /// configuration version it runs, events, propagation, and the members whose heartbeat is current.
  private func cluster(_ node: Node) -> Reply {
    guard let cluster = node.cluster else { return Reply(404, "this node is not a cluster member (edge run)\n") }
    let status = cluster.status
    var body: [String: Any] = [
      "cluster": cluster.options.keys.cluster, "node": cluster.options.nodeID, "region": cluster.options.region,
      "redis": status.redisConnected ? "connected" : "disconnected",
      "redis_since": Int(status.lastChange.timeIntervalSince1970),
      "config_version": status.configVersion, "certificates": node.certificates.storedCount,
      "events": ["sent": status.eventsSent, "received": status.eventsReceived, "refused": status.eventsRefused],
    ]
    if let last = status.lastPropagationMs, let worst = status.maxPropagationMs {
      body["propagation_ms"] = ["last": (last * 10).rounded() / 10, "max": (worst * 10).rounded() / 10]
    }
    if status.redisConnected, let members = try? cluster.members() {
      body["members"] = members.map(\.fields)
    }
    guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    else { return Reply(500, "cannot encode the cluster status\n") }
    return Reply(200, String(decoding: data, as: UTF8.self) + "\n", contentType: "application/json")
  }

  /// Whether two configurations differ only in where their parts were written (file names, lines).
  static func sameBehaviour(_ a: EdgeConfig, _ b: EdgeConfig) -> Bool {
    // Compared as canonical JSON (sorted keys), not as NSObjects: casting the parsed tree to NSObject
    // fails in a binary with the Swift runtime linked in statically, which made every load a reload.
    func withoutLocations(_ config: EdgeConfig) -> Data? {
      func strip(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
          return object.filter { $0.key != "location" }.mapValues(strip)
        }
        if let array = value as? [Any] { return array.map(strip) }
        return value
      }
      guard let value = try? JSONSerialization.jsonObject(with: Data(config.jsonString(pretty: false).utf8)) else {
        return nil
      }
      return try? JSONSerialization.data(withJSONObject: strip(value), options: [.sortedKeys, .fragmentsAllowed])
    }
    guard let left = withoutLocations(a), let right = withoutLocations(b) else { return false }
    return left == right
  }

  /// A strong validator of a configuration: FNV-1a over its JSON.
  static func etag(_ config: EdgeConfig) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in config.jsonString(pretty: false).utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    return "\"\(String(hash, radix: 16))\""
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
    if let etag = reply.etag { out += Array("ETag: \(etag)\r\n".utf8) }
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
