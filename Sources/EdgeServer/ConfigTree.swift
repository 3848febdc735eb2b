import EdgeConfig
import Foundation

/// Why a `/config/` request cannot be carried out: the status to answer and a message naming the path
/// segment that failed.
public struct ConfigTreeError: Error, Sendable, Equatable, CustomStringConvertible {
  /// 400 for a malformed path, index or body; 404 when nothing is there; 409 when something already is;
  /// 405 for a method `/config/` does not have.
  public let status: Int
  public let message: String

  public init(status: Int, message: String) {
    self.status = status
    self.message = message
  }

  public var description: String { message }
}

/// Caddy's `/config/[path]` operations on a configuration as JSONSerialization decodes it (`[String: Any]`,
/// `[Any]`, `NSNumber`, `String`, `NSNull`). Segments after `/config/` are object keys or array indexes,
/// percent-decoded; empty ones are skipped, so a trailing slash does not matter.
///
///     POST    set or replace the value; on an array (or an index into one) append the body, or with
///             a final `/...` the elements of an array body
///     PUT     create a value that does not exist (409 if it does); at an index, insert there
///             (0...count); missing objects on the way are created, as Caddy does
///     PATCH   replace a value that exists
///     DELETE  remove a value that exists
///
/// The parent of the target must exist for POST, PATCH and DELETE. The tree is a value: `apply` returns the
/// changed copy and leaves `root` alone, so the caller can validate it before swapping it in.
public enum ConfigTree {
  /// The value at `path` (`/config/`, `/config/sites/0/addresses`), for GET.
  public static func value(at path: String, in root: Any) throws(ConfigTreeError) -> Any {
    let path = try ConfigPath(path)
    if path.appendsElements { throw ConfigTreeError(status: 400, message: "'...' appends to an array, with POST only") }
    var node = root
    for (depth, segment) in path.segments.enumerated() {
      if let object = node as? [String: Any] {
        guard let child = object[segment] else { throw path.missingKey(at: depth, among: object.keys) }
        node = child
      } else if let array = node as? [Any] {
        node = array[try path.index(at: depth, into: array)]
      } else {
        throw path.notContainer(at: depth)
      }
    }
    return node
  }

  /// `root` with `method` (POST, PUT, PATCH or DELETE) applied at `path`. `body` is the decoded request
  /// body; DELETE ignores it, the others need one. DELETE of `/config/` returns `NSNull`.
  public static func apply(_ method: String, path: String, body: Any?, to root: Any) throws(ConfigTreeError) -> Any {
    guard let method = Method(rawValue: method) else {
      throw ConfigTreeError(status: 405, message: "/config/ changes with POST, PUT, PATCH or DELETE, not \(method)")
    }
    let path = try ConfigPath(path)
    if path.appendsElements, method != .post {
      throw ConfigTreeError(status: 400, message: "'...' appends to an array, with POST only, not \(method.rawValue)")
    }
    if method != .delete, body == nil {
      throw ConfigTreeError(
        status: 400, message: "\(method.rawValue) \(path.location(path.segments.count, directory: false)) needs a JSON body")
    }
    return try Edit(method: method, path: path, body: body ?? NSNull()).apply(to: root, depth: 0)
  }

  private enum Method: String {
    case post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"
  }

  /// One change, applied on the way back up: each level returns its container with the child replaced.
  private struct Edit {
    let method: Method
    let path: ConfigPath
    let body: Any

    func apply(to node: Any, depth: Int) throws(ConfigTreeError) -> Any {
      guard depth < path.segments.count else { return try replaceWhole(node) }
      let isTarget = depth == path.segments.count - 1
      let segment = path.segments[depth]
      if var object = node as? [String: Any] {
        if isTarget {
          try change(&object, key: segment, depth: depth)
        } else {
          var child = object[segment]
          // PUT makes the objects missing on the way, as Caddy's does; the others need them to exist.
          if method == .put, child == nil || child is NSNull { child = [String: Any]() }
          guard let child else { throw path.missingKey(at: depth, among: object.keys) }
          object[segment] = try apply(to: child, depth: depth + 1)
        }
        return object
      }
      if var array = node as? [Any] {
        if isTarget {
          try change(&array, depth: depth)
        } else {
          let index = try path.index(at: depth, into: array)
          array[index] = try apply(to: array[index], depth: depth + 1)
        }
        return array
      }
      throw path.notContainer(at: depth)
    }

    /// The target is the key `key` of `object`.
    private func change(_ object: inout [String: Any], key: String, depth: Int) throws(ConfigTreeError) {
      let existing = object[key]
      switch method {
      case .post:
        if let array = existing as? [Any] {
          object[key] = try appending(to: array, depth: depth + 1)
        } else if path.appendsElements {
          throw path.notArray(at: depth + 1)
        } else {
          object[key] = body
        }
      case .put:
        guard existing == nil else {
          throw ConfigTreeError(
            status: 409, message: "key '\(key)' already exists in \(path.location(depth)); use PATCH to replace it")
        }
        object[key] = body
      case .patch, .delete:
        guard existing != nil else { throw path.missingKey(at: depth, among: object.keys) }
        if method == .patch { object[key] = body } else { object.removeValue(forKey: key) }
      }
    }

    /// The target is an element of `array`. POST appends whatever the index, as Caddy's does; PUT may
    /// insert at the end.
    private func change(_ array: inout [Any], depth: Int) throws(ConfigTreeError) {
      switch method {
      case .post:
        guard Int(path.segments[depth]) != nil else { throw path.notIndex(at: depth, into: array) }
        array = try appending(to: array, depth: depth)
      case .put:
        array.insert(body, at: try path.index(at: depth, into: array, allowingEnd: true))
      case .patch:
        array[try path.index(at: depth, into: array)] = body
      case .delete:
        array.remove(at: try path.index(at: depth, into: array))
      }
    }

    /// The target is the whole configuration.
    private func replaceWhole(_ root: Any) throws(ConfigTreeError) -> Any {
      let exists = !(root is NSNull)
      switch method {
      case .post:
        if let array = root as? [Any] { return try appending(to: array, depth: 0) }
        if path.appendsElements { throw path.notArray(at: 0) }
        return body
      case .put:
        guard !exists else {
          throw ConfigTreeError(status: 409, message: "/config/ already exists; use PATCH or POST to replace it")
        }
        return body
      case .patch, .delete:
        guard exists else { throw ConfigTreeError(status: 404, message: "there is no configuration at /config/") }
        return method == .patch ? body : NSNull()
      }
    }

    /// `array` with the body appended, or the body's elements when the path ends with `/...`.
    private func appending(to array: [Any], depth: Int) throws(ConfigTreeError) -> [Any] {
      guard path.appendsElements else { return array + [body] }
      guard let elements = body as? [Any] else {
        throw ConfigTreeError(
          status: 400, message: "POST \(path.location(depth, directory: false))/... appends the elements of an array body")
      }
      return array + elements
    }
  }
}

/// A `/config/…` path: its decoded segments, and whether it ended with `/...`.
private struct ConfigPath {
  var segments: [String]
  var appendsElements = false

  init(_ text: String) throws(ConfigTreeError) {
    var parts = text.split(separator: "/")
    guard text.hasPrefix("/"), parts.first == "config" else {
      throw ConfigTreeError(status: 400, message: "a configuration path starts with /config/, not '\(text)'")
    }
    parts.removeFirst()
    if parts.last == "..." {
      appendsElements = true
      parts.removeLast()
    }
    segments = parts.map { $0.removingPercentEncoding ?? String($0) }
  }

  /// `/config/` and the first `depth` segments: the container the segment at `depth` is looked up in, so
  /// with a trailing slash; without one when naming a value.
  func location(_ depth: Int, directory: Bool = true) -> String {
    let inner = segments.prefix(depth).joined(separator: "/")
    if inner.isEmpty { return directory ? "/config/" : "/config" }
    return "/config/" + inner + (directory ? "/" : "")
  }

  /// The segment at `depth` as an index into `array`: below its count, or up to it for an insertion.
  func index(at depth: Int, into array: [Any], allowingEnd: Bool = false) throws(ConfigTreeError) -> Int {
    guard let index = Int(segments[depth]) else { throw notIndex(at: depth, into: array) }
    guard index >= 0, allowingEnd ? index <= array.count : index < array.count else {
      throw ConfigTreeError(
        status: 404, message: "index \(index) is out of range in \(location(depth)), an array of \(array.count)")
    }
    return index
  }

  func notIndex(at depth: Int, into array: [Any]) -> ConfigTreeError {
    ConfigTreeError(
      status: 400, message: "'\(segments[depth])' is not an index into \(location(depth)), an array of \(array.count)")
  }

  func missingKey(at depth: Int, among keys: some Sequence<String>) -> ConfigTreeError {
    let hint = ConfigError.suggestion(for: segments[depth], among: keys)
    return ConfigTreeError(status: 404, message: "no key '\(segments[depth])' in \(location(depth))\(hint)")
  }

  func notContainer(at depth: Int) -> ConfigTreeError {
    ConfigTreeError(
      status: 404,
      message: "\(location(depth, directory: false)) is not an object or an array, so it has no '\(segments[depth])'")
  }

  func notArray(at depth: Int) -> ConfigTreeError {
    ConfigTreeError(status: 400, message: "\(location(depth, directory: false)) is not an array to append to with '...'")
  }
}
