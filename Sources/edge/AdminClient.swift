import ArgumentParser
import EdgeConfig
import EdgeServer
import Foundation
import Glibc

/// A minimal HTTP/1.1 client for the admin endpoint of a running node (loopback by default): one
/// request, `Connection: close`, the status and body back.
enum AdminClient {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// POSTs to the admin endpoint for a CLI command: prints `done` on 200, else `refused` with the
  /// node's answer, and exits 1.
  static func post(
    to address: String, path: String, contentType: String? = nil, body: [UInt8] = [], extraFields: [String] = [],
    refused: String, done: String
  ) throws(ExitCode) {
    do {
      let reply = try send(
        to: address, method: "POST", path: path, contentType: contentType, body: body, extraFields: extraFields)
      guard reply.status == 200 else {
        printError("edge: \(refused) (\(reply.status)): \(reply.body)")
        throw ExitCode(1)
      }
      print(done)
    } catch let error as Failure {
      printError("edge: \(error)")
      throw ExitCode(1)
    } catch {
      throw ExitCode(1)
    }
  }

  static func send(
    to address: String, method: String, path: String, contentType: String? = nil, body: [UInt8] = [],
    extraFields: [String] = []
  ) throws(Failure) -> (status: Int, body: String) {
    let parsed: AdminAddress
    do { parsed = try AdminAddress(parsing: address) } catch { throw Failure(description: error.description) }
    let fd = try connect(parsed, address)
    defer { close(fd) }
    let hostField = parsed.unixPath == nil ? address : "localhost"
    var request = "\(method) \(path) HTTP/1.1\r\nHost: \(hostField)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
    if let contentType { request += "Content-Type: \(contentType)\r\n" }
    for field in extraFields { request += field + "\r\n" }
    let bytes = Array((request + "\r\n").utf8) + body
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      guard n > 0 else { throw Failure(description: "write: \(String(cString: strerror(errno)))") }
      sent += n
    }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n <= 0 { break }
      response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let statusLine = text.split(separator: "\r\n", maxSplits: 1).first,
      let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
    else { throw Failure(description: "no HTTP response from the admin endpoint at \(address)") }
    let answer = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, answer)
  }

  /// A connected socket to the admin endpoint: TCP (IPv4), or its unix socket.
  private static func connect(_ parsed: AdminAddress, _ address: String) throws(Failure) -> Int32 {
    let unix = parsed.unixPath
    let fd = socket(unix == nil ? AF_INET : AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let connected: Int32
    if let unix {
      var sun = sockaddr_un()
      sun.sun_family = sa_family_t(AF_UNIX)
      guard unix.utf8.count < MemoryLayout.size(ofValue: sun.sun_path) else {
        close(fd)
        throw Failure(description: "admin socket path '\(unix)' is too long")
      }
      withUnsafeMutableBytes(of: &sun.sun_path) { raw in
        raw.copyBytes(from: unix.utf8)
        raw[unix.utf8.count] = 0
      }
      connected = withUnsafePointer(to: &sun) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
      }
    } else {
      var sin = sockaddr_in()
      sin.sin_family = sa_family_t(AF_INET)
      sin.sin_port = UInt16(parsed.port).bigEndian
      guard inet_pton(AF_INET, parsed.connectIP, &sin.sin_addr) == 1 else {
        close(fd)
        throw Failure(description: "admin host '\(parsed.connectIP)' is not an IPv4 address")
      }
      connected = withUnsafePointer(to: &sin) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
    }
    guard connected == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw Failure(description: "cannot reach the admin endpoint at \(address): \(reason); is edge running with it on?")
    }
    return fd
  }
}
