/// Header fields in order; names compare case-insensitively and may repeat (several `Link` fields).
public struct ACMEHTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
  public struct Field: Sendable, Hashable {
    public let name: String
    public let value: String
  }

  public private(set) var fields: [Field] = []

  public init() {}

  public init(dictionaryLiteral elements: (String, String)...) {
    for (name, value) in elements { add(name, value) }
  }

  public mutating func add(_ name: String, _ value: String) { fields.append(Field(name: name, value: value)) }

  /// Replaces every field called `name` with one.
  public mutating func set(_ name: String, _ value: String) {
    fields.removeAll { $0.name.lowercased() == name.lowercased() }
    add(name, value)
  }

  /// The first value of `name`.
  public subscript(_ name: String) -> String? { fields.first { $0.name.lowercased() == name.lowercased() }?.value }

  /// Every value of `name`, in order.
  public func values(_ name: String) -> [String] {
    fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
  }

  public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}

public struct ACMEHTTPRequest: Sendable, Hashable {
  public var method: String
  public var url: String
  public var headers: ACMEHTTPHeaders
  public var body: [UInt8]

  public init(method: String, url: String, headers: ACMEHTTPHeaders = [:], body: [UInt8] = []) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
  }
}

public struct ACMEHTTPResponse: Sendable, Hashable {
  public var status: Int
  public var headers: ACMEHTTPHeaders
  public var body: [UInt8]

  public init(status: Int, headers: ACMEHTTPHeaders = [:], body: [UInt8] = []) {
    self.status = status
    self.headers = headers
    self.body = body
  }
}

/// Moves one HTTP exchange. `ACMEHTTPSTransport` is the real one; tests may substitute their own.
/// Implementations must not block the caller's executor.
public protocol ACMETransport: Sendable {
  func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse
}
