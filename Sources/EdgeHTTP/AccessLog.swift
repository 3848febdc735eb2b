import EdgeConfig
import EdgeCore
import EdgeHTTP1
import Foundation
import Glibc

/// A site's access log (`log`): one line per answered request, built into the answering worker's
/// `AccessLogBuffer` and written with the lines around it (whole lines per `write(2)`, O_APPEND for files,
/// so lines from several workers never interleave).
public final class AccessLogger: Sendable {
  let config: SiteLog
  let sink: LogSink
  /// Whether info lines (everything below 5xx) are written at the configured level.
  let logsInfo: Bool

  init(_ config: SiteLog) {
    self.config = config
    sink = LogSink.shared(config)
    logsInfo = ["debug", "info"].contains(config.level)
  }

  /// Fields that carry credentials; their values are written as "REDACTED", as Caddy does.
  static let redacted: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

  func log(_ record: AccessRecord, status: Int, size: Int, upstream: String?, into buffer: AccessLogBuffer) {
    guard sink.isOpen, status >= 500 || logsInfo else { return }
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    let duration = Double(monotonicNanoseconds() - record.start) / 1e9
    buffer.append(to: sink) { pending in
      switch config.format {
      case .json:
        var out = JSONLine(continuing: &pending)
        json(record, status: status, size: size, upstream: upstream, now: now, duration: duration, into: &out)
        swap(&out.bytes, &pending)
      case .console:
        pending += console(record, status: status, size: size, upstream: upstream, now: now, duration: duration)
      }
      pending.append(10)
    }
  }

  private func json(
    _ record: AccessRecord, status: Int, size: Int, upstream: String?, now: timespec, duration: Double,
    into out: inout JSONLine
  ) {
    let head = record.head
    out.raw(status >= 500 ? "{\"level\":\"error\",\"ts\":" : "{\"level\":\"info\",\"ts\":")
    out.decimal(Int(now.tv_sec), fraction: Int(now.tv_nsec) / 1000, digits: 6)
    out.raw(",\"logger\":\"http.log.access\",\"msg\":\"handled request\",\"request\":{\"remote_ip\":")
    out.string(record.remoteIP)
    out.raw(",\"client_ip\":")
    out.string(record.clientIP)
    if record.http2 {
      out.raw(",\"proto\":\"HTTP/2.0\",\"method\":")
    } else {
      out.raw(head.version == .http1_1 ? ",\"proto\":\"HTTP/1.1\",\"method\":" : ",\"proto\":\"HTTP/1.0\",\"method\":")
    }
    out.string(head.method)
    out.raw(",\"host\":")
    out.string(head.host ?? "")
    out.raw(",\"uri\":")
    out.string(head.path)
    out.raw(",\"headers\":{")
    headers(head.headers, into: &out)
    out.raw("}")
    if record.secure { out.raw(",\"tls\":{}") }
    out.raw("},\"bytes_read\":")
    out.integer(record.bytesRead)
    out.raw(",\"duration\":")
    let micros = Int(duration * 1_000_000)
    out.decimal(micros / 1_000_000, fraction: micros % 1_000_000, digits: 6)
    out.raw(",\"size\":")
    out.integer(size)
    out.raw(",\"status\":")
    out.integer(status)
    if let upstream {
      out.raw(",\"upstream\":")
      out.string(upstream)
    }
    out.raw("}")
  }

  /// `"Name":["value",…]` for each field name (Caddy's shape), straight from the header bytes; a name
  /// that appears more than once gets all its values in one array; credentials are "REDACTED".
  private func headers(_ headers: HTTPHeaders, into out: inout JSONLine) {
    var names: [[UInt8]] = []
    headers.forEachField { name, _ in
      let lower = name.map { $0 | ($0 >= 65 && $0 <= 90 ? 0x20 : 0) }
      if !names.contains(lower) { names.append(lower) }
    }
    for (index, lower) in names.enumerated() {
      if index > 0 { out.raw(",") }
      var first = true
      let redact = Self.redacted.contains(String(decoding: lower, as: UTF8.self))
      headers.forEachField { name, value in
        guard name.count == lower.count, zip(name, lower).allSatisfy({ ($0 | ($0 >= 65 && $0 <= 90 ? 0x20 : 0)) == $1 }) else {
          return
        }
        if first {
          out.string(bytes: name)
          out.raw(":[")
        } else {
          out.raw(",")
        }
        if redact { out.raw("\"REDACTED\"") } else { out.string(bytes: value) }
        first = false
      }
      out.raw("]")
    }
  }

  /// `2026-11-21T23:59:59.123Z 127.0.0.1 host "GET /path HTTP/1.1" 200 1234 0.001234s upstream`.
  private func console(
    _ record: AccessRecord, status: Int, size: Int, upstream: String?, now: timespec, duration: Double
  ) -> [UInt8] {
    let head = record.head
    let time = LineLogHandler.timestamp(seconds: Int(now.tv_sec), nanoseconds: Int(now.tv_nsec))
    let version = head.version == .http1_1 ? "HTTP/1.1" : "HTTP/1.0"
    let target = head.path.unicodeScalars.map { $0.value < 0x20 || $0 == "\"" ? "%" + String($0.value, radix: 16) : String($0) }.joined()
    var text = "\(time) \(record.remoteIP) \(head.host ?? "-") \"\(head.method) \(target) \(version)\" \(status) \(size) "
    text += String(format: "%.6fs", duration)
    if let upstream { text += " " + upstream }
    return Array(text.utf8)
  }
}

/// What a request's log line needs from its start.
struct AccessRecord {
  let logger: AccessLogger
  /// The request as it arrived (before rewrites).
  let head: RequestHead
  let remoteIP: String
  /// The client a trusted proxy forwarded, else `remoteIP`.
  let clientIP: String
  let secure: Bool
  let start: UInt64
  var bytesRead = 0
  /// The request came on an HTTP/2 stream (its head was made HTTP/1.1 for the connection that served it).
  var http2 = false
}

func monotonicNanoseconds() -> UInt64 {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A JSON object built as bytes: strings escaped per RFC 8259 (control characters as \u00XX).
struct JSONLine {
  var bytes: [UInt8] = []
  init() { bytes.reserveCapacity(512) }
  /// Appends to `buffer`'s bytes (taken out of it; put them back with `swap` when done).
  init(continuing buffer: inout [UInt8]) { swap(&bytes, &buffer) }
  mutating func raw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }
  /// Decimal digits, written straight into the line (no String made).
  mutating func integer(_ value: Int) {
    if value < 0 { bytes.append(UInt8(ascii: "-")) }
    digits(value.magnitude, width: 1)
  }
  /// `whole.fraction` with `digits` fraction digits (zero-padded).
  mutating func decimal(_ whole: Int, fraction: Int, digits count: Int) {
    integer(whole)
    bytes.append(UInt8(ascii: "."))
    digits(UInt(max(fraction, 0)), width: count)
  }
  /// `value` in decimal, left-padded with zeros to `width` digits.
  private mutating func digits(_ value: UInt, width: Int) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
      var n = value
      var start = 20
      repeat {
        start -= 1
        scratch[start] = UInt8(ascii: "0") &+ UInt8(n % 10)
        n /= 10
      } while n > 0
      while 20 - start < width && start > 0 {
        start -= 1
        scratch[start] = UInt8(ascii: "0")
      }
      bytes.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[start..<20]))
    }
  }
  mutating func string(_ text: String) {
    var text = text
    text.withUTF8 { string(bytes: UnsafeRawBufferPointer($0)) }
  }
  mutating func string(bytes raw: UnsafeRawBufferPointer) {
    if raw.contains(where: { $0 >= 0x80 }) {
      // Bytes beyond ASCII: whatever is not valid UTF-8 becomes U+FFFD, so every line stays valid JSON.
      var text = String(decoding: raw, as: UTF8.self)
      return text.withUTF8 { escape(UnsafeRawBufferPointer($0)) }
    }
    escape(raw)
  }
  /// Runs of bytes that need no escaping are copied whole; the rest one escape at a time.
  private mutating func escape(_ raw: UnsafeRawBufferPointer) {
    bytes.append(UInt8(ascii: "\""))
    var run = 0
    for index in 0..<raw.count {
      let byte = raw[index]
      guard byte < 0x20 || byte == 0x7f || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
      if run < index { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[run..<index])) }
      run = index + 1
      bytes.append(92)
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
      case 10: bytes.append(UInt8(ascii: "n"))
      case 13: bytes.append(UInt8(ascii: "r"))
      case 9: bytes.append(UInt8(ascii: "t"))
      default:
        let hex: StaticString = "0123456789abcdef"
        hex.withUTF8Buffer { digits in
          bytes.append(contentsOf: [UInt8(ascii: "u"), 48, 48, digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }
      }
    }
    if run < raw.count { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[run...])) }
    bytes.append(UInt8(ascii: "\""))
  }
}

/// Where log lines go: a descriptor shared by every site and table that names the same destination, so
/// a reload neither reopens nor loses a file. Files roll by size: `access.log` becomes
/// `access-<UTC time>.log` and the oldest beyond `roll_keep` are deleted.
final class LogSink: @unchecked Sendable {
  private let lock = Locked<Void>(())
  private var fd: Int32
  private var size: Int
  let config: SiteLog
  var isOpen: Bool { config.output != .discard && fd >= 0 }

  private init(_ config: SiteLog) {
    self.config = config
    switch config.output {
    case .stdout: (fd, size) = (1, 0)
    case .stderr: (fd, size) = (2, 0)
    case .discard: (fd, size) = (-1, 0)
    case .file: (fd, size) = Self.open(config)
    }
  }

  private static let sinks = Locked<[String: LogSink]>([:])

  static func shared(_ config: SiteLog) -> LogSink {
    sinks.withLock { sinks in
      if let sink = sinks[config.destination], sink.config == config { return sink }
      let sink = LogSink(config)
      sinks[config.destination] = sink
      return sink
    }
  }

  private static func open(_ config: SiteLog) -> (Int32, Int) {
    guard let path = config.path else { return (-1, 0) }
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode_t(config.mode))
    guard fd >= 0 else {
      let reason = String(cString: strerror(errno))
      FileHandle.standardError.write(Data("edge: cannot open access log \(path): \(reason); its lines are dropped\n".utf8))
      return (-1, 0)
    }
    var info = stat()
    fstat(fd, &info)
    return (fd, Int(info.st_size))
  }

  /// Writes whole lines. A file that would grow past `roll_size` is rolled first, and a batch is split at
  /// line ends so that no file goes past it (a single longer line gets a file of its own).
  func write(_ lines: [UInt8]) {
    lock.withLock { _ in
      lines.withUnsafeBytes { all in
        var start = 0
        while start < all.count, fd >= 0 {
          var end = all.count
          if let limit = config.rollSize, config.output == .file, size + (end - start) > limit {
            if size > 0 {
              roll()
              continue
            }
            let fits = all[start..<min(all.count, start + limit)].lastIndex(of: 10)
            end = (fits ?? all[start...].firstIndex(of: 10) ?? all.count - 1) + 1
          }
          let written = Glibc.write(fd, all.baseAddress! + start, end - start)
          guard written > 0 else { return }
          size += written
          start += written
        }
      }
    }
  }

  /// Renames the full file aside, opens a fresh one, and deletes the oldest rolled files.
  private func roll() {
    guard let path = config.path else { return }
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    let url = URL(fileURLWithPath: path)
    let stem = url.deletingPathExtension().lastPathComponent
    let ext = url.pathExtension.isEmpty ? "" : "." + url.pathExtension
    let stamp = LineLogHandler.timestamp(seconds: Int(now.tv_sec), nanoseconds: Int(now.tv_nsec))
      .replacingOccurrences(of: ":", with: "-")
    let rolled = url.deletingLastPathComponent().appendingPathComponent("\(stem)-\(stamp)\(ext)").path
    rename(path, rolled)
    Glibc.close(fd)
    (fd, size) = Self.open(config)
    let directory = url.deletingLastPathComponent().path
    let old = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
      .filter { $0.hasPrefix(stem + "-") && $0.hasSuffix(ext) }
      .sorted()
    for name in old.dropLast(config.rollKeep) { unlink(directory + "/" + name) }
  }
}
