import Dispatch
import EdgeRegex
import Synchronization
import Testing

@Suite struct RegexTests {
  @Test("matching is an unanchored search; ^ and $ anchor it", arguments: [
    ("/api/", "/v1/api/users", true),
    ("^/api/", "/v1/api/users", false),
    ("^/api/", "/api/users", true),
    ("users$", "/api/users", true),
    ("users$", "/api/users/1", false),
    ("^$", "", true),
    ("", "anything", true),
  ])
  func anchors(_ pattern: String, _ subject: String, _ expected: Bool) throws {
    #expect(try CompiledRegex(pattern).matches(subject) == expected)
  }

  @Test("$ matches only at the very end, as in Go (not before a trailing newline)")
  func dollarAtEndOnly() throws {
    let regex = try CompiledRegex("^/admin$")
    #expect(regex.matches("/admin"))
    #expect(!regex.matches("/admin\n"))
  }

  @Test("character classes and alternation")
  func classesAndAlternation() throws {
    let version = try CompiledRegex(#"^/v[0-9]+/"#)
    #expect(version.matches("/v12/x"))
    #expect(!version.matches("/vx/x"))
    let images = try CompiledRegex(#"\.(png|jpe?g|gif)$"#)
    #expect(images.firstMatch("/a/b.jpeg")?.groups == [".jpeg", "jpeg"])
    #expect(images.matches("/logo.png"))
    #expect(!images.matches("/logo.svg"))
    let word = try CompiledRegex(#"^\w+\s\d{3}$"#)
    #expect(word.matches("abc_1 123"))
    #expect(!word.matches("abc 12"))
    #expect(try CompiledRegex("[^/]+$").firstMatch("/a/b/file.txt")?.groups[0] == "file.txt")
  }

  @Test("the leftmost match wins, and alternatives are tried in order")
  func leftmostFirst() throws {
    #expect(try CompiledRegex("a+|b+").firstMatch("xbbaa")?.groups[0] == "bb")
    #expect(try CompiledRegex("ab|abc").firstMatch("abc")?.groups[0] == "ab")
  }

  @Test("numbered and named groups")
  func groups() throws {
    let regex = try CompiledRegex(#"^/users/(?<id>[0-9]+)/(posts|comments)/(?P<post>\d+)$"#)
    #expect(regex.groupNames == [nil, "id", nil, "post"])
    let match = try #require(regex.firstMatch("/users/42/posts/7"))
    #expect(match.groups == ["/users/42/posts/7", "42", "posts", "7"])
    #expect(match["id"] == "42")
    #expect(match["post"] == "7")
    #expect(match["missing"] == nil)
    #expect(regex.firstMatch("/users/x/posts/7") == nil)
  }

  @Test("a group that took no part in the match is nil; one that matched nothing is empty")
  func unsetGroups() throws {
    let regex = try CompiledRegex(#"^/(a)?(b)?(c*)(?<tail>d)?$"#)
    #expect(regex.groupNames.count == 5)
    let match = try #require(regex.firstMatch("/b"))
    #expect(match.groups == ["/b", nil, "b", "", nil])
    #expect(match["tail"] == nil)
    // A group after the last one set is reported as nil too.
    #expect(try CompiledRegex("(x)|(y)").firstMatch("x")?.groups == ["x", "x", nil])
  }

  @Test("duplicate names (?J): the name reads as whichever group matched")
  func duplicateNames() throws {
    let regex = try CompiledRegex("(?J)(?<n>a+)|(?<n>b+)")
    #expect(regex.firstMatch("bb")?["n"] == "bb")
    #expect(regex.firstMatch("aa")?["n"] == "aa")
  }

  @Test("UTF-8 subjects: . is one character, groups are whole characters")
  func utf8() throws {
    let regex = try CompiledRegex("^/wiki/(.)(.+)$")
    let match = try #require(regex.firstMatch("/wiki/Ärger😀ß"))
    #expect(match.groups[1] == "Ä")
    #expect(match.groups[2] == "rger😀ß")
    #expect(try CompiledRegex("^.{3}$").matches("日本語"))
    #expect(try CompiledRegex("😀+").firstMatch("a😀😀b")?.groups[0] == "😀😀")
    #expect(try CompiledRegex("[é]").matches("café"))
    // \d stays ASCII, as in Go.
    #expect(try !CompiledRegex(#"^\d$"#).matches("٣"))
  }

  @Test("(?i) folds case, Unicode included")
  func caseInsensitive() throws {
    let regex = try CompiledRegex("(?i)^/Images/.*\\.PNG$")
    #expect(regex.matches("/images/logo.png"))
    #expect(regex.matches("/IMAGES/LOGO.Png"))
    #expect(!regex.matches("/img/logo.png"))
    #expect(try CompiledRegex("(?i)straße").matches("STRAßE"))
    #expect(try CompiledRegex("(?i)émile").matches("ÉMILE"))
    #expect(try !CompiledRegex("émile").matches("ÉMILE"))
  }

  @Test("an invalid pattern reports PCRE2's message and where it gave up", arguments: [
    ("(ab", 3, "missing closing parenthesis"),
    ("a[b", 3, "missing terminating ] for character class"),
    ("*a", 0, "quantifier does not follow a repeatable item"),
    ("a(?<n>x)(?<n>y)", 13, "two named subpatterns have the same name (PCRE2_DUPNAMES not set)"),
    (#"a\C"#, 3, #"using \C is disabled by the application"#),
  ])
  func invalidPattern(_ pattern: String, _ offset: Int, _ message: String) {
    #expect(throws: RegexError.self) { try CompiledRegex(pattern) }
    do {
      _ = try CompiledRegex(pattern)
    } catch {
      #expect(error.offset == offset)
      #expect(error.message == message)
      #expect(error.description == "invalid regular expression at offset \(offset): \(message)")
    }
  }

  @Test("the offset of an error counts UTF-8 bytes")
  func errorOffsetInBytes() {
    do {
      _ = try CompiledRegex("é(")
      Issue.record("compiled")
    } catch {
      #expect(error.offset == 3)
    }
  }

  @Test("deep backtracking that overflows the JIT stack still matches (the interpreter takes over)")
  func jitStackFallback() throws {
    let regex = try CompiledRegex("^(a|b)*c$")
    let subject = String(repeating: "ab", count: 50_000) + "c"
    #expect(regex.matches(subject))
    #expect(regex.firstMatch(subject)?.groups[1] == "b")
  }

  @Test("one pattern matched from eight threads at once gives each thread its own answers")
  func concurrentUse() throws {
    let regex = try CompiledRegex(#"^/users/(?<id>\d+)(/(?<tab>[a-z]+))?$"#)
    let small = try CompiledRegex("^x(y)$")  // fewer groups, sharing the same per-thread block
    let failures = Atomic(0)
    DispatchQueue.concurrentPerform(iterations: 8) { thread in
      for i in 0..<10_000 {
        let withTab = i % 2 == 0
        let subject = withTab ? "/users/\(thread)\(i)/tab\(Character(UnicodeScalar(97 + thread)!))" : "/users/\(thread)\(i)"
        let match = regex.firstMatch(subject)
        let expectedTab: String? = withTab ? "tab\(Character(UnicodeScalar(97 + thread)!))" : nil
        if match?["id"] != "\(thread)\(i)" || match?["tab"] != expectedTab || match?.groups[0] != subject
          || !small.matches("xy") || small.matches("/users/1") || regex.matches("/users/\(i)x")
        {
          failures.add(1, ordering: .relaxed)
        }
      }
    }
    #expect(failures.load(ordering: .relaxed) == 0)
  }
}
