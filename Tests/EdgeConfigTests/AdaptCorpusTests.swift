import EdgeConfig
import Testing

/// One Caddyfile edge accepts, and pieces of the JSON it adapts to (`edge adapt` output: keys sorted,
/// no whitespace), each of which must appear as written.
struct GoodCaddyfile: Sendable, CustomTestStringConvertible {
  var label: String
  var text: String
  var fragments: [String]
  var testDescription: String { label }
  init(_ label: String, _ text: String, _ fragments: [String]) {
    self.label = label
    self.text = text
    self.fragments = fragments
  }
}

@Suite struct AdaptCorpusTests {
  static let cases: [GoodCaddyfile] = [
    .init("snippet arguments fill a 'to' line", "(proxy) {\n\treverse_proxy {args[0]} {\n\t\tto {args[1:]}\n\t}\n}\na.test {\n\timport proxy app:1 app:2 app:3\n}",
      [#""upstreams":[{"host":"app","port":1},{"host":"app","port":2},{"host":"app","port":3}]"#]),
    .init("{$ENV} and its default", "a.test {\n\treverse_proxy {$APP} {$MISSING:backup:9000}\n}",
      [#""upstreams":[{"host":"app","port":8080},{"host":"backup","port":9000}]"#]),
    .init("heredoc keeps inner indentation", "a.test {\n\trespond /hd <<TXT\n\t\thello\n\t\t  world\n\t\tTXT 201\n}",
      [#"{"respond":{"body":"hello\n  world","close":false,"status":201}}"#, #""matcher":{"paths":["/hd"]}"#]),
    .init("line continuation", "a.test {\n\treverse_proxy a:1 \\\n\t\tb:2\n}",
      [#""upstreams":[{"host":"a","port":1},{"host":"b","port":2}]"#]),
    .init("addresses over three lines", "a.test,\n[::1]:8443,\nhttp://b.test:8080 {\n\trespond ok\n}",
      [#"{"host":"::1","original":"[::1]:8443","port":8443}"#,
       #"{"host":"b.test","original":"http://b.test:8080","port":8080,"scheme":"http"}"#]),
    .init("named matcher with not and a deferred header", "a.test {\n\t@public {\n\t\tnot path /admin/*\n\t\tmethod GET HEAD\n\t}\n\theader @public >X-Frame-Options DENY\n}",
      [#""matcher":{"methods":["GET","HEAD"],"name":"@public","not":[{"paths":["/admin/*"]}],"paths":[]}"#,
       #"{"kind":"set","name":"X-Frame-Options","value":"DENY"}"#]),
    .init("handle_path without '*' matches the path exactly, as in Caddy", "a.test {\n\thandle_path /static {\n\t\trespond static\n\t}\n}",
      [#""stripPrefix":"/static"}},"location":{"column":2,"file":"Caddyfile","line":2},"matcher":{"paths":["/static"]}"#]),
    .init("backtick body keeps its quotes", "a.test {\n\trespond `{\"ok\": true}` 200\n}",
      [#"{"respond":{"body":"{\"ok\": true}","close":false,"status":200}}"#]),
    .init("request_body in KiB, then uri strip_suffix", "a.test {\n\trequest_body {\n\t\tmax_size 1MiB\n\t}\n\turi strip_suffix .html\n}",
      [#"{"requestBody":{"maxSize":1048576}}"#, #"{"rewrite":{"operation":"strip_suffix","value":".html"}}"#]),
    .init("a single site without braces", "localhost\nrespond \"no braces\" 203",
      [#"{"respond":{"body":"no braces","close":false,"status":203}},"location":{"column":1,"file":"Caddyfile","line":2}"#]),
    .init("error inside handle; a comment is not a body", "a.test {\n\thandle /api/* {\n\t\terror \"gone\" 410\n\t}\n\trespond # a comment\n}",
      [#"{"error":{"message":"gone","status":410}},"location":{"column":3,"file":"Caddyfile","line":3}"#,
       #"{"respond":{"body":"","close":false}}"#]),
    .init("global TLS and server options", "{\n\tdefault_sni A.test\n\tauto_https disable_redirects\n\tservers {\n\t\tmax_uri_length 2KiB\n\t}\n}\n:8080 {\n\tabort /admin*\n}",
      [#""autoHTTPS":"disable_redirects","defaultSNI":"a.test""#, #""maxURIBytes":2048"#,
       #"{"handler":{"abort":{}},"location":{"column":2,"file":"Caddyfile","line":9},"matcher":{"paths":["/admin*"]}}"#]),
    .init("route keeps try_files before file_server", "a.test {\n\troute /app/* {\n\t\ttry_files {path} /app/index.html\n\t\tfile_server {\n\t\t\troot /srv/app\n\t\t}\n\t}\n}",
      [#"{"route":{"routes":[{"handler":{"tryFiles":["{path}","/app/index.html"]}"#, #""root":"/srv/app"}"#]),
    .init("redir sorts before rewrite", "a.test {\n\trewrite /x /y?from=x\n\tredir /old /new permanent\n}",
      [#""routes":[{"handler":{"redirect":{"status":301,"to":"/new"}},"location":{"column":2,"file":"Caddyfile","line":3}"#,
       #"{"rewrite":{"operation":"to","value":"/y?from=x"}}"#]),
    .init("file_server browse under handle_path", "a.test {\n\thandle_path /files/* {\n\t\troot * /srv/files\n\t\tfile_server browse\n\t}\n}",
      [#"{"fileServer":{"browse":true,"hide":[],"indexNames":["index.html","index.txt"],"precompressed":[]}}"#]),
    .init("encode with levels and prefer", "a.test {\n\tencode {\n\t\tzstd\n\t\tgzip 4\n\t\tprefer gzip\n\t}\n}",
      [#"{"encode":{"formats":["gzip","zstd"],"gzipLevel":4,"minimumLength":512}}"#]),
  ]

  @Test(arguments: cases)
  func adapts(_ good: GoodCaddyfile) throws {
    let config = try CaddyfileAdapter.adapt(text: good.text, filename: "Caddyfile", environment: corpusEnvironment)
    try config.validate()
    let json = config.jsonString(pretty: false)
    for fragment in good.fragments {
      #expect(json.contains(fragment), "\(fragment)\nnot in\n\(json)")
    }
    #expect(try EdgeConfig(json: json) == config, "the JSON reads back to the same configuration")
  }
}
