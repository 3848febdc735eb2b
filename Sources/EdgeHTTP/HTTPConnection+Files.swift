import EdgeConfig
import EdgeCore
import EdgeEncode
import EdgeHTTP1
import Glibc

/// A file body on its way to the client; the descriptor closes with it.
final class FileTransfer {
  let descriptor: Int32
  var offset: Int
  var remaining: Int
  /// Whether the connection closes once the body is out.
  let closeAfter: Bool
  /// The response's status and body length, for the access log once the body is out.
  let status: Int
  let length: Int

  init(descriptor: Int32, offset: Int, length: Int, closeAfter: Bool, status: Int) {
    self.descriptor = descriptor
    self.offset = offset
    self.remaining = length
    self.closeAfter = closeAfter
    self.status = status
    self.length = length
  }

  deinit { Glibc.close(descriptor) }
}

extension HTTPConnection {
  /// `file_server`: the response `FileServer` decides, with the site's `header` operations applied; a
  /// file body is read in 64 KiB pieces while the client keeps up (back-pressure as for proxied bodies).
  ///
  /// `originalTarget`: the request target before `handle_path` stripped it; a directory's redirect to its
  /// trailing-slash form, and a directory listing's title, name the path the client asked for.
  /// `encoding`: the site's `encode`, which compresses a directory listing (files are sent as they are).
  func serveFile(
    _ head: RequestHead, config: FileServerConfig, root: String?, fields: [HeaderOperation], originalTarget: String,
    encoding: EncodeConfig?
  ) {
    let options = FileServerOptions(
      root: config.root ?? root ?? ".", indexNames: config.indexNames, hide: config.hide,
      precompressed: config.precompressed, browse: config.browse)
    let (pathPart, query) = OriginTarget.split(head.path)
    var requestHeaders = head.headers
    if currentError != nil {
      // An error page is the error's answer, never a 304 or a range of it.
      for name in ["If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range"] {
        requestHeaders.remove(name)
      }
    }
    // Only a directory listing reads the query and the path the client asked for.
    var response = FileServer.respond(
      method: head.method, path: String(pathPart), query: config.browse ? query.map(String.init) ?? "" : "",
      listingPath: config.browse ? String(OriginTarget.split(originalTarget).path) : nil, headers: requestHeaders,
      options: options)
    if let error = currentError {
      if response.status == 200 { response.status = error.status }
    } else if response.status >= 400, currentSite?.errorRoutes(for: response.status) != nil {
      if case .file(let descriptor, _, _) = response.body { Glibc.close(descriptor) }
      return fail(status: response.status, "", head: head, fields: fields)
    }
    let mustClose = draining || currentError?.close == true || !head.keepAlive || head.framing != .none
    var encoded: [HeaderOperation] = []
    if let encoding, response.status == 200 {
      encoded = encodeGenerated(&response, request: head, encoding: encoding)
    }
    scratch.removeAll(keepingCapacity: true)
    Self.appendStatusLine(response.status, to: &scratch)
    scratch.append(contentsOf: worker.date.field)
    if fields.isEmpty && encoded.isEmpty && response.status != 308 {
      // Nothing to apply: the server's own fields (names and values it made) go out as they are.
      for (name, value) in response.fields {
        Self.append(name, to: &scratch)
        scratch.append(UInt8(ascii: ":"))
        scratch.append(UInt8(ascii: " "))
        Self.append(value, to: &scratch)
        scratch.append(UInt8(ascii: "\r"))
        scratch.append(UInt8(ascii: "\n"))
      }
    } else {
      var headers = HTTPHeaders(response.fields.map { ($0.name, $0.value) })
      if response.status == 308 {
        headers.set("Location", Self.directoryLocation(originalTarget))
      }
      headers.apply(encoded, placeholders(head))
      headers.apply(fields, placeholders(head))
      headers.write(into: &scratch)
    }
    scratch.append(contentsOf: "Content-Length: ".utf8)
    Self.appendDecimal(response.contentLength, to: &scratch)
    scratch.append(contentsOf: mustClose ? "\r\nConnection: close\r\n\r\n".utf8 : "\r\n\r\n".utf8)
    switch response.body {
    case .none:
      client.write(scratch)
      logAccess(status: response.status, size: 0)
    case .bytes(let bytes):
      if head.method != "HEAD" { scratch.append(contentsOf: bytes) }
      client.write(scratch)
      logAccess(status: response.status, size: head.method == "HEAD" ? 0 : bytes.count)
    case .file(let descriptor, let offset, let length):
      client.write(scratch)
      guard head.method != "HEAD" else {
        Glibc.close(descriptor)
        logAccess(status: response.status, size: 0)
        break
      }
      fileTransfer = FileTransfer(
        descriptor: descriptor, offset: offset, length: length, closeAfter: mustClose, status: response.status)
      phase = .sendingFile
      return pumpFile()
    }
    if mustClose { closeAfterFlush() } else { becomeIdle() }
  }

  /// `encode` on a generated 200 body (a directory listing) of a compressible type: compressed as
  /// `encodeLocal` decides, or for HEAD only the Vary that GET would carry. Returns the fields to add.
  private func encodeGenerated(_ response: inout FileResponse, request: RequestHead, encoding: EncodeConfig)
    -> [HeaderOperation]
  {
    guard Compressible.contentType(response.field("Content-Type")) else { return [] }
    switch response.body {
    case .bytes(let bytes):
      let (body, fields) = encodeLocal(bytes, status: response.status, request: request, encoding: encoding)
      response.body = .bytes(body)
      response.contentLength = body.count
      return fields
    case .none where request.method == "HEAD" && response.contentLength >= encoding.minimumLength && response.contentLength > 0:
      return [HeaderOperation(kind: .add, name: "Vary", value: "Accept-Encoding")]
    case .none, .file:
      return []
    }
  }

  /// Sends file bytes until the body is out or the client stops taking them (then `clientDidDrain`
  /// resumes, under the write timeout).
  ///
  /// On a plain connection whose queue is empty, a large body goes by `sendfile` (no copy through user
  /// space); what the socket does not take at once is read and written as usual.
  func pumpFile() {
    guard let transfer = fileTransfer, phase == .sendingFile else { return }
    if transfer.remaining >= Self.sendFileMinimum,
      let sent = client.sendFile(transfer.descriptor, offset: transfer.offset, count: transfer.remaining)
    {
      transfer.offset += sent
      transfer.remaining -= sent
    }
    withUnsafeTemporaryAllocation(byteCount: Self.fileChunk, alignment: 16) { buffer in
      while transfer.remaining > 0 && client.isWritable && phase == .sendingFile {
        let count = pread(transfer.descriptor, buffer.baseAddress, min(buffer.count, transfer.remaining), off_t(transfer.offset))
        if count <= 0 {
          // The file shrank or failed under us after the head promised its length: the response cannot
          // be completed, so the connection is cut (a client sees a short body, never a wrong one).
          worker.logger.warning("file read failed mid-response", metadata: ["errno": "\(errno)"])
          return abort()
        }
        client.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        transfer.offset += count
        transfer.remaining -= count
      }
    }
    guard phase == .sendingFile else { return }
    if transfer.remaining > 0 {
      armClientTimer(timeouts.write)
      return
    }
    fileTransfer = nil
    logAccess(status: transfer.status, size: transfer.length)
    if transfer.closeAfter { closeAfterFlush() } else { becomeIdle() }
  }

  static let fileChunk = 64 * 1024
  /// Smaller bodies are read and written with their head in one `write`: as cheap, and they leave with
  /// the loop's other batched writes.
  static let sendFileMinimum = 16 * 1024

  /// `HTTP/1.1 <status> <reason>\r\n`.
  static func appendStatusLine(_ status: Int, to out: inout [UInt8]) {
    out.append(contentsOf: "HTTP/1.1 ".utf8)
    appendDecimal(status, to: &out)
    out.append(UInt8(ascii: " "))
    append(StatusText.reason(status), to: &out)
    out.append(contentsOf: "\r\n".utf8)
  }

  /// `text`'s bytes, copied at once (appending a `String.UTF8View` goes a slower, generic way).
  static func append(_ text: String, to out: inout [UInt8]) {
    let copied = text.utf8.withContiguousStorageIfAvailable { out.append(contentsOf: $0) } != nil
    if !copied { out.append(contentsOf: text.utf8) }
  }

  /// The decimal digits of a non-negative `value`.
  static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for Int.max's 19 digits
    withUnsafeMutableBytes(of: &digits) { buffer in
      var v = max(value, 0)
      var i = buffer.count
      repeat {
        i -= 1
        buffer[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
        v /= 10
      } while v > 0
      out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[i...]))
    }
  }

  /// Where a directory asked for without its trailing slash redirects: the path the client sent (before
  /// `handle_path` stripped it) plus `/`, with the query kept. Leading slashes and backslashes collapse to
  /// one, so `//evil.example` cannot become a redirect to another host.
  static func directoryLocation(_ target: String) -> String {
    let rest = OriginTarget.split(target).path.drop { $0 == "/" || $0 == "\\" }
    return "/" + rest + "/" + OriginTarget.querySuffix(target)
  }
}
