/// An ordered list of header fields, kept compactly: one byte array holding every name and value
/// back to back, plus a small record of offsets per field.
///
/// Names compare ASCII case-insensitively and keep the case they were given in. Values are kept
/// without leading and trailing whitespace.
public struct HTTPHeaders: Sendable {
  /// Where one field's name and value sit in `storage`.
  struct Field: Sendable {
    var nameStart: Int32
    var nameLength: Int32
    var valueStart: Int32
    var valueLength: Int32

    var name: Range<Int> { Int(nameStart)..<Int(nameStart + nameLength) }
    var value: Range<Int> { Int(valueStart)..<Int(valueStart + valueLength) }
    var size: Int { Int(nameLength + valueLength) }
  }

  var storage: [UInt8]
  var fields: [Field]
  /// Bytes of `storage` no field refers to any more (removed fields).
  var unusedBytes = 0

  /// No fields.
  public init() {
    storage = []
    fields = []
  }

  /// The fields `pairs`, in order.
  public init(_ pairs: [(String, String)]) {
    self.init()
    fields.reserveCapacity(pairs.count)
    for (name, value) in pairs { add(name, value) }
  }

  /// Room for `fields` fields of `bytes` bytes in all, names and values.
  init(reservingFields fieldCount: Int, bytes: Int) {
    self.init()
    fields.reserveCapacity(fieldCount)
    storage.reserveCapacity(bytes)
  }

  /// The number of fields.
  public var count: Int { fields.count }

  /// Whether there is no field.
  public var isEmpty: Bool { fields.isEmpty }

  /// The value of the first field named `name` (case-insensitive), or nil.
  public subscript(name: String) -> String? {
    guard let index = firstIndex(of: name) else { return nil }
    return valueString(fields[index])
  }

  /// The values of every field named `name`, in order.
  public func values(_ name: String) -> [String] {
    var result: [String] = []
    forEachValue(of: name) { raw in result.append(String(decoding: raw, as: UTF8.self)) }
    return result
  }

  /// Whether some field is named `name`.
  public func contains(_ name: String) -> Bool { firstIndex(of: name) != nil }

  /// Whether an element of the comma-separated value of any field named `name` equals `token`,
  /// case-insensitively: `Connection: keep-alive, Upgrade` contains "upgrade".
  public func containsToken(_ name: String, _ token: String) -> Bool {
    ASCII.withBytes(of: token) { wanted in
      var found = false
      forEachValue(of: name) { raw in
        if found { return }
        ASCII.forEachListElement(raw, 0..<raw.count) { element in
          if ASCII.equalsIgnoringCase(raw.slice(element), wanted) { found = true }
          return !found
        }
      }
      return found
    }
  }

  /// Whether `name` (raw bytes, such as `removeAll(where:)` passes) equals `string` ignoring ASCII case.
  public static func name(_ name: UnsafeRawBufferPointer, equals string: String) -> Bool {
    ASCII.equalsIgnoringCase(name, string)
  }

  // MARK: Internal access

  func firstIndex(of name: String) -> Int? {
    ASCII.withBytes(of: name) { wanted in
      storage.withUnsafeBytes { raw in
        fields.firstIndex { field in
          Int(field.nameLength) == wanted.count && ASCII.equalsIgnoringCase(raw.slice(field.name), wanted)
        }
      }
    }
  }

  /// Calls `body` with the raw value of each field named `name`, in order.
  func forEachValue(of name: String, _ body: (UnsafeRawBufferPointer) -> Void) {
    ASCII.withBytes(of: name) { wanted in
      storage.withUnsafeBytes { raw in
        for field in fields
        where Int(field.nameLength) == wanted.count && ASCII.equalsIgnoringCase(raw.slice(field.name), wanted) {
          body(raw.slice(field.value))
        }
      }
    }
  }

  func nameString(_ field: Field) -> String {
    storage.withUnsafeBytes { ASCII.string($0, field.name) }
  }

  func valueString(_ field: Field) -> String {
    storage.withUnsafeBytes { ASCII.string($0, field.value) }
  }
}
