import Foundation

/// edge's JSON form of a configuration (what `edge adapt` prints and `--config x.json` reads).
extension EdgeConfig {
  /// The configuration as JSON, keys sorted so the output is stable.
  public func jsonString(pretty: Bool) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(self), as: UTF8.self)
    } catch {
      // Every value in the model is encodable; this is unreachable short of a bug.
      preconditionFailure("EdgeConfig could not be encoded: \(error)")
    }
  }

  /// Reads a configuration from its JSON form; `file` names it in errors.
  public init(json: String, file: String = "<json>") throws(ConfigError) {
    do {
      self = try JSONDecoder().decode(EdgeConfig.self, from: Data(json.utf8))
    } catch let error as DecodingError {
      throw ConfigError("\(file): invalid JSON configuration: \(Self.describe(error))")
    } catch {
      throw ConfigError("\(file): invalid JSON configuration: \(error)")
    }
  }

  /// Reads a `.json` configuration file.
  public static func load(jsonFile path: String) throws(ConfigError) -> EdgeConfig {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ConfigError("cannot read '\(path)': \(error.localizedDescription); check the path and permissions")
    }
    return try EdgeConfig(json: text, file: path)
  }

  private static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      return keys.isEmpty ? "(top level)" : String(keys.drop { $0 == "." })
    }
    switch error {
    case .keyNotFound(let key, let context): return "\(path(context)): missing key '\(key.stringValue)'"
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
      return "\(path(context)): \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
  }
}
