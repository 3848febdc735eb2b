internal import CPCRE2

/// A regular expression for Caddy's `path_regexp`, `header_regexp` and friends, compiled once by PCRE2
/// (JIT-compiled where the platform allows) and then matched from any number of threads.
///
/// Matching searches anywhere in the subject, like Go's `regexp.MatchString`; anchor with `^` and `$`.
/// Two options keep PCRE2 close to Go's syntax: `$` matches only at the very end (not before a final
/// newline, so `^/admin$` does not let `/admin\n` through), and `\C` (one byte of a UTF-8 character)
/// is refused, so every group ends on a character boundary. `\d`, `\w` and `\b` stay ASCII as in Go.
///
/// Invariant behind `@unchecked Sendable`: every stored property is a `let`, and PCRE2 documents a
/// compiled pattern, JIT code included, as read-only while matching. Per-match state lives in
/// `MatchDataCache`, one block per thread.
public final class CompiledRegex: @unchecked Sendable {
  public let pattern: String
  /// The name of each group by number; index 0 (the whole match) and unnamed groups are nil.
  public let groupNames: [String?]
  private let code: OpaquePointer

  public init(_ pattern: String) throws(RegexError) {
    var errorCode: Int32 = 0
    var errorOffset = 0
    let options = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C
    var source = pattern
    let compiled = source.withUTF8 {
      pcre2_compile_8($0.baseAddress ?? emptySubject, $0.count, options, &errorCode, &errorOffset, nil)
    }
    guard let compiled else { throw RegexError(code: errorCode, offset: errorOffset) }
    // A failed JIT compile (unsupported CPU, no executable memory) leaves the interpreter in charge.
    _ = pcre2_jit_compile_8(compiled, PCRE2_JIT_COMPLETE)
    self.pattern = pattern
    self.code = compiled
    self.groupNames = Self.groupNames(compiled)
  }

  deinit { pcre2_code_free_8(code) }

  public func matches(_ subject: String) -> Bool {
    search(subject) { count, _, _ in count > 0 }
  }

  /// The leftmost match and its groups, or nil.
  public func firstMatch(_ subject: String) -> RegexMatch? {
    search(subject) { count, ovector, bytes in
      guard count > 0 else { return nil }
      var groups = [String?](repeating: nil, count: groupNames.count)
      // PCRE2 reports the groups up to the highest one that took part; the rest stay nil.
      for group in 0..<min(Int(count), groups.count) {
        let start = ovector[2 * group], end = ovector[2 * group + 1]
        // An unset group holds PCRE2_UNSET: all ones, -1 as Int.
        guard start >= 0, end >= start else { continue }
        groups[group] = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
      }
      return RegexMatch(groups: groups, names: groupNames)
    }
  }

  /// Runs one match and hands `result` the return code, the offset vector and the subject's bytes.
  /// Errors other than "no match" (match or heap limit hit on a pathological pattern) arrive as a
  /// negative count, which both callers read as no match.
  private func search<R>(_ subject: String, _ result: (Int32, UnsafeMutablePointer<Int>, UnsafeBufferPointer<UInt8>) -> R) -> R {
    var subject = subject
    return subject.withUTF8 { bytes in
      let matchData = MatchDataCache.forCurrentThread(pairs: UInt32(groupNames.count))
      // A Swift String is always valid UTF-8, so PCRE2's own check (a pass over the whole subject) is
      // skipped.
      let start = bytes.baseAddress ?? emptySubject
      var count = pcre2_match_8(code, start, bytes.count, 0, PCRE2_NO_UTF_CHECK, matchData, nil)
      if count == PCRE2_ERROR_JIT_STACKLIMIT {
        // JIT code recurses on a 32 KiB stack; the interpreter keeps its frames on the heap.
        count = pcre2_match_8(code, start, bytes.count, 0, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, matchData, nil)
      }
      return result(count, pcre2_get_ovector_pointer_8(matchData), bytes)
    }
  }

  /// Reads the name table: entries of a big-endian group number followed by a NUL-terminated name.
  private static func groupNames(_ code: OpaquePointer) -> [String?] {
    var captures: UInt32 = 0, nameCount: UInt32 = 0, entrySize: UInt32 = 0
    var table: UnsafePointer<UInt8>? = nil
    _ = pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
    _ = pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &nameCount)
    _ = pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
    _ = pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
    var names = [String?](repeating: nil, count: Int(captures) + 1)
    guard let table else { return names }
    for entry in 0..<Int(nameCount) {
      let base = table + entry * Int(entrySize)
      let group = Int(base[0]) << 8 | Int(base[1])
      if group < names.count { names[group] = String(cString: base + 2) }
    }
    return names
  }
}

/// Stands in for the subject or pattern pointer of an empty string (PCRE2 10.42 rejects NULL even with a
/// length of 0).
private var emptySubject: UnsafePointer<UInt8> { StaticString("").utf8Start }

/// A successful match: the text of each group by number, 0 being the whole match.
public struct RegexMatch: Sendable {
  /// nil for a group that took no part in the match, such as an unmatched `(x)?`.
  public let groups: [String?]
  let names: [String?]

  /// The group named `name`; with several groups of that name (`(?J)`), the first that matched.
  public subscript(name: String) -> String? {
    for (group, groupName) in names.enumerated() where groupName == name {
      if let text = groups[group] { return text }
    }
    return nil
  }
}

/// A pattern PCRE2 would not compile: its message, and where in the pattern it gave up.
public struct RegexError: Error, CustomStringConvertible, Equatable, Sendable {
  public let message: String
  /// 0-based, counted in UTF-8 bytes of the pattern.
  public let offset: Int

  init(code: Int32, offset: Int) {
    var buffer = [UInt8](repeating: 0, count: 256)
    let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
    self.message = length > 0 ? String(decoding: buffer[0..<Int(length)], as: UTF8.self) : "PCRE2 error \(code)"
    self.offset = offset
  }

  public var description: String { "invalid regular expression at offset \(offset): \(message)" }
}

extension CompiledRegex {
  /// A pattern that matches nothing (a stand-in for one that failed to compile after validation).
  public static let never: CompiledRegex = {
    do { return try CompiledRegex("(?!)") } catch { preconditionFailure("PCRE2 refused '(?!)': \(error)") }
  }()
}
