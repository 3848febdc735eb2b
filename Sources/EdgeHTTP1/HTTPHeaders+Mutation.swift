extension HTTPHeaders {
  /// Appends a field. Bytes that could break the message are neutralised rather than sent:
  /// a name byte that is not a token character becomes "-", and CR, LF or NUL in a value becomes
  /// a space (RFC 9110 §5.5). Leading and trailing whitespace of the value is dropped.
  public mutating func add(_ name: String, _ value: String) {
    var name = name
    var value = value
    name.withUTF8 { name in value.withUTF8 { value in add(name, value) } }
  }

  private mutating func add(_ name: UnsafeBufferPointer<UInt8>, _ rawValue: UnsafeBufferPointer<UInt8>) {
    var lower = 0
    var upper = rawValue.count
    while lower < upper, ASCII.isOWS(rawValue[lower]) { lower += 1 }
    while upper > lower, ASCII.isOWS(rawValue[upper - 1]) { upper -= 1 }
    let value = UnsafeBufferPointer(rebasing: rawValue[lower..<upper])
    let nameStart = storage.count
    // Clean input (the usual case) is copied whole; only unsafe bytes take the per-byte path.
    if name.allSatisfy(ASCII.isTchar) {
      storage.append(contentsOf: name)
    } else {
      for byte in name { storage.append(ASCII.isTchar(byte) ? byte : 0x2D) }
    }
    let nameLength = storage.count - nameStart
    let valueStart = storage.count
    if !value.contains(where: { $0 == ASCII.cr || $0 == ASCII.lf || $0 == 0 }) {
      storage.append(contentsOf: value)
    } else {
      for byte in value { storage.append(byte == ASCII.cr || byte == ASCII.lf || byte == 0 ? ASCII.space : byte) }
    }
    fields.append(
      Field(
        nameStart: Int32(nameStart), nameLength: Int32(nameLength),
        valueStart: Int32(valueStart), valueLength: Int32(storage.count - valueStart)))
  }

  /// Replaces every field named `name` by one field with `value`, where the first of them was
  /// (at the end if there was none).
  public mutating func set(_ name: String, _ value: String) {
    guard let first = firstIndex(of: name) else { return add(name, value) }
    add(name, value)
    let added = fields.removeLast()
    unusedBytes += fields[first].size
    fields[first] = added
    removeFields(named: name, from: first + 1)
  }

  /// Removes every field named `name` (case-insensitive).
  public mutating func remove(_ name: String) {
    guard let first = firstIndex(of: name) else { return }
    removeFields(named: name, from: first)
  }

  /// Removes the fields for which `shouldRemove(name, value)` is true; the buffers are valid only
  /// during the call. `HTTPHeaders.name(_:equals:)` compares a name without allocating.
  public mutating func removeAll(
    where shouldRemove: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
  ) rethrows {
    let bytes = storage
    var removedBytes = 0
    try bytes.withUnsafeBytes { raw in
      try fields.removeAll { field in
        let remove = try shouldRemove(raw.slice(field.name), raw.slice(field.value))
        if remove { removedBytes += field.size }
        return remove
      }
    }
    unusedBytes += removedBytes
    compactIfWasteful()
  }

  /// Removes the hop-by-hop fields (RFC 9110 §7.6.1) — Connection, Keep-Alive, Proxy-Connection,
  /// TE, Trailer, Transfer-Encoding, Upgrade — every field that Connection names, and the fields in
  /// `also` (a proxy drops the ones it is about to set). One pass over the fields, no allocation unless
  /// a Connection field lists names.
  public mutating func removeHopByHopFields(also: [FieldName] = []) {
    let listed = connectionListed()
    removeAll { name, _ in
      FieldName.isHopByHop(name) || also.contains { $0.matches(name) } || listed.contains { $0.matches(name) }
    }
  }

  /// The field names the Connection field lists, other than hop-by-hop ones and `close`.
  func connectionListed() -> [FieldName] {
    var listed: [FieldName] = []
    forEachValue(of: "connection") { raw in
      _ = ASCII.forEachListElement(raw, 0..<raw.count) { element in
        // `keep-alive`, `close` and `upgrade` are the usual options; the first and last are removed
        // anyway and `close` names no field, so the common case allocates nothing.
        let token = raw.slice(element)
        if !element.isEmpty && !FieldName.isHopByHop(token) && !FieldName.close.matches(token) {
          listed.append(FieldName(token))
        }
        return true
      }
    }
    return listed
  }

  /// Appends a field from bytes a parser has already validated.
  mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
    let nameStart = storage.count
    name.withMemoryRebound(to: UInt8.self) { storage.append(contentsOf: $0) }
    let valueStart = storage.count
    value.withMemoryRebound(to: UInt8.self) { storage.append(contentsOf: $0) }
    fields.append(
      Field(
        nameStart: Int32(nameStart), nameLength: Int32(name.count),
        valueStart: Int32(valueStart), valueLength: Int32(value.count)))
  }

  private mutating func removeFields(named name: String, from start: Int) {
    ASCII.withBytes(of: name) { wanted in
      let bytes = storage
      var removedBytes = 0
      bytes.withUnsafeBytes { raw in
        var write = start
        for read in start..<fields.count {
          let field = fields[read]
          if ASCII.equalsIgnoringCase(raw.slice(field.name), wanted) {
            removedBytes += field.size
          } else {
            fields[write] = field
            write += 1
          }
        }
        fields.removeLast(fields.count - write)
      }
      unusedBytes += removedBytes
    }
    compactIfWasteful()
  }

  /// Rewrites `storage` without the bytes of removed fields once they are most of it.
  private mutating func compactIfWasteful() {
    guard unusedBytes > 256, unusedBytes * 2 > storage.count else { return }
    var compacted: [UInt8] = []
    compacted.reserveCapacity(storage.count - unusedBytes)
    for i in fields.indices {
      let field = fields[i]
      let nameStart = compacted.count
      compacted.append(contentsOf: storage[field.name])
      let valueStart = compacted.count
      compacted.append(contentsOf: storage[field.value])
      fields[i].nameStart = Int32(nameStart)
      fields[i].valueStart = Int32(valueStart)
    }
    storage = compacted
    unusedBytes = 0
  }
}
