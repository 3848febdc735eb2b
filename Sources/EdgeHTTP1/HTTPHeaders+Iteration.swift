extension HTTPHeaders: Sequence {
  /// Yields each field as strings, in order.
  public struct Iterator: IteratorProtocol {
    let headers: HTTPHeaders
    var index = 0

    public mutating func next() -> (name: String, value: String)? {
      guard index < headers.fields.count else { return nil }
      let field = headers.fields[index]
      index += 1
      return (headers.nameString(field), headers.valueString(field))
    }
  }

  public func makeIterator() -> Iterator { Iterator(headers: self) }

  public var underestimatedCount: Int { fields.count }

  /// Appends `Name: value\r\n` for each field, copying bytes only.
  public func write(into out: inout [UInt8]) {
    write(into: &out) { _ in false }
  }

  /// Writes the fields a proxy forwards: all but the hop-by-hop ones (RFC 9110 §7.6.1), those the
  /// Connection field names, and those in `also`. The same result as `removeHopByHopFields(also:)`
  /// then `write(into:)`, in one pass and without changing the headers.
  public func writeForwarded(into out: inout [UInt8], also: [FieldName] = []) {
    let listed = connectionListed()
    write(into: &out) { name in
      FieldName.isHopByHop(name) || also.contains { $0.matches(name) } || listed.contains { $0.matches(name) }
    }
  }

  /// Writes every field for which `omit(name)` is false.
  func write(into out: inout [UInt8], omitting omit: (UnsafeRawBufferPointer) -> Bool) {
    let start = out.count
    let total = storage.count - unusedBytes + 4 * fields.count
    // Sized once, then filled by raw copies: no per-field bounds or capacity checks.
    out.append(contentsOf: repeatElement(0, count: total))
    var end = start
    out.withUnsafeMutableBytes { dest in
      storage.withUnsafeBytes { src in
        for field in fields {
          let name = src.slice(field.name)
          if omit(name) { continue }
          let value = src.slice(field.value)
          (dest.baseAddress! + end).copyMemory(from: name.baseAddress!, byteCount: name.count)
          end += name.count
          dest[end] = ASCII.colon
          dest[end + 1] = ASCII.space
          end += 2
          if value.count > 0 {
            (dest.baseAddress! + end).copyMemory(from: value.baseAddress!, byteCount: value.count)
          }
          end += value.count
          dest[end] = ASCII.cr
          dest[end + 1] = ASCII.lf
          end += 2
        }
      }
    }
    out.removeLast(out.count - end)
  }

  /// Calls `body` with each field's name and value bytes, valid only during the call.
  public func forEachField(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void)
    rethrows
  {
    try storage.withUnsafeBytes { raw in
      for field in fields { try body(raw.slice(field.name), raw.slice(field.value)) }
    }
  }
}

extension HTTPHeaders: Equatable {
  /// Equal when both have the same fields in the same order, names and values byte for byte.
  public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
    guard lhs.fields.count == rhs.fields.count else { return false }
    for (a, b) in zip(lhs.fields, rhs.fields) {
      guard lhs.storage[a.name].elementsEqual(rhs.storage[b.name]),
        lhs.storage[a.value].elementsEqual(rhs.storage[b.value])
      else { return false }
    }
    return true
  }
}

extension HTTPHeaders: ExpressibleByDictionaryLiteral {
  /// Fields in the order written: `["Host": "example.com", "Accept": "*/*"]`.
  public init(dictionaryLiteral elements: (String, String)...) {
    self.init(elements)
  }
}

extension HTTPHeaders: CustomStringConvertible {
  public var description: String {
    "[" + map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "]"
  }
}
