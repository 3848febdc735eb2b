import FuzzSupport

@testable import EdgeHTTP1

/// The chunked decoder: the same bytes whole, in two pieces and one byte at a time give the same body,
/// trailers and verdict; it never yields more body than it consumed; a second, independent reading of
/// RFC 9112 §7.1 (`ReferenceChunked`, whole-buffer, no state machine) agrees with it; and a body it
/// decoded, chunked again, decodes to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunked(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let input = fuzzInput(data, size)
  for (maxExtension, maxTrailer) in [(1024, 8192), (8, 40)] {
    let make = { ChunkedDecoder(maxChunkExtensionBytes: maxExtension, maxTrailerBytes: maxTrailer) }
    let whole = Decoded(input, pieces: [0..<input.count], make())
    invariant(whole.error != nil || whole.body.count <= whole.consumed && whole.consumed <= input.count, "body \(whole.body.count), consumed \(whole.consumed)")
    if !whole.finished && whole.error == nil { invariant(whole.consumed == input.count, "stopped early without finishing") }
    let cut = splitPoint(input)
    invariant(whole == Decoded(input, pieces: [0..<cut, cut..<input.count], make(), exact: true), "two pieces differ: \(whole)")
    invariant(whole == Decoded(input, pieces: (0..<input.count).map { $0..<$0 + 1 }, make()), "byte-at-a-time differs: \(whole)")

    let reference = ReferenceChunked.decode(input, maxExtension: maxExtension, maxTrailer: maxTrailer)
    invariant(reference.failed == (whole.error != nil), "reference says failed=\(reference.failed), decoder \(whole)")
    if whole.error == nil {
      invariant(reference.finished == whole.finished, "reference finished=\(reference.finished), decoder \(whole)")
      invariant(reference.body == whole.body, "reference body differs")
      if whole.finished { invariant(reference.consumed == whole.consumed, "reference consumed \(reference.consumed), decoder \(whole.consumed)") }
    }
    if whole.finished { checkReencoded(whole, make()) }
  }
  return 0
}

/// What a decoder made of the input, fed in `pieces`.
struct Decoded: Equatable, CustomStringConvertible {
  var body: [UInt8] = []
  var consumed = 0
  var finished = false
  var error: HTTP1Error?
  var trailers = HTTPHeaders()

  init(_ input: UnsafeRawBufferPointer, pieces: [Range<Int>], _ decoder: ChunkedDecoder, exact: Bool = false) {
    var decoder = decoder
    for piece in pieces where !finished && error == nil {
      if exact {
        withExactCopy(input[piece]) { feed($0, &decoder) }
      } else {
        feed(UnsafeRawBufferPointer(rebasing: input[piece]), &decoder)
      }
    }
    if finished { trailers = decoder.trailers }
    // After an error, how much a call consumed before throwing depends on where the pieces were cut.
    if error != nil { consumed = -1 }
  }

  private mutating func feed(_ bytes: UnsafeRawBufferPointer, _ decoder: inout ChunkedDecoder) {
    var body: [UInt8] = []
    do throws(HTTP1Error) {
      let (used, done) = try decoder.decode(bytes) { body.append(contentsOf: $0) }
      invariant(used <= bytes.count, "consumed more than given")
      if !done { invariant(used == bytes.count, "left bytes without finishing") }
      consumed += used
      finished = done
    } catch {
      self.error = error
    }
    self.body += body
  }

  var description: String {
    "body \(body.count), consumed \(consumed), finished \(finished), error \(error.map { "\($0)" } ?? "none")"
  }
}

/// The decoded body, chunked again (in pieces of 1, 7, then up to 100 bytes) with its trailers, decodes to
/// the same.
func checkReencoded(_ decoded: Decoded, _ decoder: ChunkedDecoder) {
  var out: [UInt8] = []
  var rest = decoded.body[...]
  var size = 1
  while !rest.isEmpty {
    let piece = rest.prefix(size)
    ChunkedEncoder.writeChunkHeader(size: piece.count, into: &out)
    out += piece
    out += ChunkedEncoder.chunkEnd
    rest = rest.dropFirst(piece.count)
    size = size == 1 ? 7 : 100
  }
  out += Array("0\r\n".utf8)
  decoded.trailers.write(into: &out)
  out += [13, 10]
  let again = out.withUnsafeBytes { Decoded($0, pieces: [0..<$0.count], ChunkedDecoder(maxChunkExtensionBytes: 0, maxTrailerBytes: out.count)) }
  invariant(again.finished && again.error == nil, "re-chunked body does not decode: \(again)")
  invariant(again.body == decoded.body, "re-chunked body differs")
  invariant(again.trailers == decoded.trailers, "trailers differ")
  invariant(again.consumed == out.count, "re-chunked consumed \(again.consumed) of \(out.count)")
}
