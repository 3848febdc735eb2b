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
    out.reserveCapacity(out.count + storage.count - unusedBytes + 4 * fields.count)
    for field in fields {
      out.append(contentsOf: storage[field.name])
      out.append(ASCII.colon)
      out.append(ASCII.space)
      out.append(contentsOf: storage[field.value])
      out.append(ASCII.cr)
      out.append(ASCII.lf)
    }
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
