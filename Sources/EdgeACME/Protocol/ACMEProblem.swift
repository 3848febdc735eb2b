/// An RFC 7807 problem document as ACME uses it (RFC 8555 §6.7).
public struct ACMEProblem: Sendable, Hashable, Decodable, CustomStringConvertible {
  /// `urn:ietf:params:acme:error:<name>` for ACME's own errors.
  public let type: String
  public let detail: String?
  public let status: Int?
  /// Which identifier a subproblem is about.
  public let identifier: ACMEIdentifier?
  public let subproblems: [ACMEProblem]

  public init(
    type: String, detail: String? = nil, status: Int? = nil, identifier: ACMEIdentifier? = nil,
    subproblems: [ACMEProblem] = []
  ) {
    self.type = type
    self.detail = detail
    self.status = status
    self.identifier = identifier
    self.subproblems = subproblems
  }

  private enum CodingKeys: String, CodingKey { case type, detail, status, identifier, subproblems }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    type = try container.decodeIfPresent(String.self, forKey: .type) ?? "about:blank"
    detail = try container.decodeIfPresent(String.self, forKey: .detail)
    status = try container.decodeIfPresent(Int.self, forKey: .status)
    identifier = try container.decodeIfPresent(ACMEIdentifier.self, forKey: .identifier)
    subproblems = try container.decodeIfPresent([ACMEProblem].self, forKey: .subproblems) ?? []
  }

  static let acmeNamespace = "urn:ietf:params:acme:error:"

  /// Whether this is ACME error `name` (e.g. "badNonce" for `urn:ietf:params:acme:error:badNonce`).
  public func isACMEError(_ name: String) -> Bool { type == Self.acmeNamespace + name }

  /// `type: detail`, then each subproblem as `[identifier] type: detail`.
  public var description: String {
    var text = detail.map { "\(type): \($0)" } ?? type
    for sub in subproblems {
      let about = sub.identifier.map { "[\($0.value)] " } ?? ""
      text += "; \(about)\(sub.detail.map { "\(sub.type): \($0)" } ?? sub.type)"
    }
    return text
  }
}
