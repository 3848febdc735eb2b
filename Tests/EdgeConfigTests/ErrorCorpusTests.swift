import EdgeConfig
import Testing

/// One Caddyfile edge must refuse, and the exact message an operator sees (as `edge adapt` and
/// `edge validate` print it, after `edge: `): `file:line:column` of the offending token, the token quoted,
/// what was expected, and a "did you mean" when a close name exists.
struct BadCaddyfile: Sendable, CustomTestStringConvertible {
  var label: String
  var text: String
  var message: String
  var testDescription: String { label }
  init(_ label: String, _ text: String, _ message: String) {
    self.label = label
    self.text = text
    self.message = message
  }
}

/// The environment every corpus case is adapted with.
let corpusEnvironment = ["PORT": "eighty", "APP": "app:8080"]

/// What `edge adapt` reports for `text`: the adapter's error, else `validate()`'s, else "no error".
func corpusFailure(_ text: String) -> String {
  do {
    try CaddyfileAdapter.adapt(text: text, filename: "Caddyfile", environment: corpusEnvironment).validate()
    return "no error"
  } catch {
    return error.description
  }
}

@Suite struct ErrorCorpusTests {
  static let lexer: [BadCaddyfile] = [
    .init("unterminated quote", "a.com {\n\trespond \"hello\n}",
      "Caddyfile:2:10: unterminated quoted string; add the closing '\"' (write \\\" for a quote inside it)"),
    .init("unterminated backtick", "a.com {\n\trespond `hello\n}",
      "Caddyfile:2:10: unterminated backtick-quoted string; add the closing '`'"),
    .init("unterminated heredoc", "a.com {\n\trespond <<EOF\n\thello\n}",
      "Caddyfile:2:10: unterminated heredoc; end it with a line holding only 'EOF'"),
    .init("text after a heredoc marker", "a.com {\n\trespond <<EOF 200\n\thello\n\tEOF\n}",
      "Caddyfile:2:16: unexpected '200' after heredoc marker '<<EOF'; the marker must end its line and the text start on the next line"),
    .init("heredoc line left of its marker", "a.com {\n\trespond <<EOF\nhello\n\tEOF\n}",
      "Caddyfile:3:1: heredoc line is indented less than its closing marker; indent it at least as much as the marker"),
    .init("unclosed site block", "a.com {\n\trespond hi\n", "Caddyfile:1:7: '{' is never closed; add a matching '}'"),
    .init("'}' alone", "}\n", "Caddyfile:1:1: unexpected '}' without a matching '{'; remove it or add the '{'"),
    .init("'}' after a site without braces", "a.com\nrespond hi\n}\n",
      "Caddyfile:3:1: unexpected '}' without a matching '{'; did you forget '{' after a site address?"),
    .init("stray '{'", "a.com {\n\t{\n\t}\n}",
      "Caddyfile:2:2: unexpected '{'; a block opens at the end of a directive's line, as in 'directive args {'"),
    .init("'}' ending a directive's line", "a.com {\n\trespond hi }\n}",
      "Caddyfile:2:13: unexpected '}' on the same line as 'respond'; put the closing brace on its own line"),
    .init("a directive on the '{' line", "a.com { respond hi\n}",
      "Caddyfile:1:9: unexpected 'respond' after '{' on the same line; start the block's contents on the next line"),
  ]

  static let parser: [BadCaddyfile] = [
    .init("global options block not first", "a.com {\n}\n{\n\temail a@b.c\n}",
      "Caddyfile:3:1: block without a site address; only the first block of the file can be the global options block, write the site address before '{'"),
    .init("snippet defined twice", "(common) {\n\theader X-A b\n}\n(common) {\n\theader X-B c\n}",
      "Caddyfile:4:1: snippet 'common' is defined twice; rename one of them"),
    .init("unclosed snippet", "(common) {\n\theader X-A b", "Caddyfile:1:10: snippet 'common' is never closed; add a matching '}'"),
    .init("import of a missing file", "a.com {\n\timport nothing.caddy\n}",
      "Caddyfile:2:9: import 'nothing.caddy': no snippet of that name (snippets must be defined before they are imported) and no file at 'nothing.caddy'"),
    .init("import of a misspelt snippet", "(common) {\n\theader X-A b\n}\na.com {\n\timport commn\n}",
      "Caddyfile:5:9: import 'commn': no snippet of that name (defined so far: common; snippets must be defined before they are imported) and no file at 'commn'"),
    .init("snippet imported before it is defined", "a.com {\n\timport common\n}\n(common) {\n\theader X-A b\n}",
      "Caddyfile:2:9: import 'common': no snippet of that name (snippets must be defined before they are imported) and no file at 'common'"),
    .init("import cycle", "(a) {\n\timport b\n}\n(b) {\n\timport a\n}\nx.com {\n\timport a\n}",
      "Caddyfile:5:2: import cycle: snippet 'a' → snippet 'b' → snippet 'a'; remove one of these imports"),
    .init("import without a name", "a.com {\n\timport\n}",
      "Caddyfile:2:2: import needs a snippet name or a file path, as in 'import common'"),
    .init("import with a block", "(s) {\n\trespond x\n}\na.com {\n\timport s {\n\t}\n}",
      "Caddyfile:5:11: import with a block is not supported yet; pass arguments on the same line"),
    .init("{args[n]} beyond the arguments", "(s) {\n\trespond {args[1]}\n}\na.com {\n\timport s one\n}",
      "Caddyfile:2:10: '{args[1]}' needs at least 2 import argument(s) but the import at Caddyfile:5:2 gives 1; pass more arguments to 'import'"),
    .init("{args[a:b]} beyond the arguments", "(s) {\n\trespond {args[1:3]}\n}\na.com {\n\timport s one\n}",
      "Caddyfile:2:10: argument range [1:3] is outside the 1 import argument(s) of the import at Caddyfile:5:2; pass more arguments or narrow the range"),
  ]

  static let addresses: [BadCaddyfile] = [
    .init("port that is not a number", "a.com:http {\n}",
      "Caddyfile:1:1: invalid port 'http' in site address 'a.com:http'; use a number from 1 to 65535"),
    .init("port from {$ENV}", ":{$PORT} {\n\trespond hi\n}",
      "Caddyfile:1:1: invalid port 'eighty' in site address ':eighty'; use a number from 1 to 65535"),
    .init("port out of range, second address", "a.com, b.com:70000 {\n}",
      "Caddyfile:1:8: invalid port '70000' in site address 'b.com:70000'; use a number from 1 to 65535"),
    .init("scheme", "ftp://a.com {\n}",
      "Caddyfile:1:1: unsupported scheme 'ftp' in site address 'ftp://a.com'; use http:// or https://"),
    .init("two wildcards", "*.*.example.com {\n}",
      "Caddyfile:1:1: invalid host '*.*.example.com' in site address '*.*.example.com'; use a name, a '*.' wildcard or an IP address"),
    .init("IPv6 without brackets", "::1:8080 {\n}",
      "Caddyfile:1:1: IPv6 address '::1:8080' needs brackets; write it as [::1:8080] or [addr]:port"),
    .init("one address in two sites", ":8080 {\n\trespond ok\n}\n:8080 {\n\trespond two\n}",
      "Caddyfile:4:1: site address ':8080' is used by two site blocks (first at Caddyfile:1:1); merge them or remove one"),
  ]

  static let globalOptions: [BadCaddyfile] = [
    .init("typo of email", "{\n\temial a@b.c\n}", "Caddyfile:2:2: unknown global option 'emial' (did you mean 'email'?)"),
    .init("typo of http_port", "{\n\thttp_prot 8080\n}", "Caddyfile:2:2: unknown global option 'http_prot' (did you mean 'http_port'?)"),
    .init("Caddy option not built", "{\n\tdebug\n}", "Caddyfile:2:2: global option 'debug' is not supported yet"),
    .init("site directive among global options", "{\n\treverse_proxy x:1\n}",
      "Caddyfile:2:2: 'reverse_proxy' is a site directive, not a global option; put it inside a site block"),
    .init("bad duration", "{\n\tgrace_period soon\n}",
      "Caddyfile:2:15: 'soon' is not a duration; write e.g. 500ms, 10s, 5m, 1h or 1m30s"),
    .init("duration in two words", "{\n\tgrace_period 10 seconds\n}", "Caddyfile:2:18: 'grace_period' takes one argument; remove 'seconds'"),
    .init("bad size", "{\n\tservers {\n\t\tmax_header_size huge\n\t}\n}",
      "Caddyfile:3:19: 'huge' is not a size; write e.g. 512, 16KB (1000 bytes each), 16KiB or 10MB"),
    .init("typo of a servers option", "{\n\tservers {\n\t\tmax_header_sise 1KB\n\t}\n}",
      "Caddyfile:3:3: unknown servers option 'max_header_sise' (did you mean 'max_header_size'?)"),
    .init("servers option not built", "{\n\tservers {\n\t\tstrict_sni_host\n\t}\n}",
      "Caddyfile:3:3: servers option 'strict_sni_host' is not supported yet"),
    .init("trusted_proxies without ranges", "{\n\tservers {\n\t\ttrusted_proxies static\n\t}\n}",
      "Caddyfile:3:19: 'trusted_proxies static' needs IP ranges, e.g. 'trusted_proxies static private_ranges'"),
    .init("trusted_proxies with a bad range", "{\n\tservers {\n\t\ttrusted_proxies static 10.0.0.0/33\n\t}\n}",
      "Caddyfile:3:26: '10.0.0.0/33' is not an IP address or CIDR range; write e.g. 10.0.0.0/8 or 2001:db8::/32"),
    .init("proxy_protocol after tls", "{\n\tservers {\n\t\tlistener_wrappers {\n\t\t\ttls\n\t\t\tproxy_protocol\n\t\t}\n\t}\n}",
      "Caddyfile:5:4: 'proxy_protocol' after 'tls' would read the header inside TLS; edge reads it before, so move it above 'tls'"),
    .init("unknown fallback_policy", "{\n\tservers {\n\t\tlistener_wrappers {\n\t\t\tproxy_protocol {\n\t\t\t\tfallback_policy uze\n\t\t\t}\n\t\t}\n\t}\n}",
      "Caddyfile:5:21: unknown fallback_policy 'uze' (did you mean 'use'?); use one of use, ignore, reject, require, skip"),
    .init("zero timeout", "{\n\tservers {\n\t\ttimeouts {\n\t\t\tidle 0\n\t\t}\n\t}\n}",
      "Caddyfile:4:9: 'idle' must be positive; write e.g. 30s"),
    .init("admin with two addresses", "{\n\tadmin localhost:2019 extra\n}", "Caddyfile:2:23: 'admin' takes one address or 'off'"),
    .init("http_port out of range", "{\n\thttp_port 70000\n}",
      "Caddyfile:2:12: 'http_port' 70000 is outside 1–65535; use a port number from 1 to 65535"),
    .init("zero workers", "{\n\tworkers 0\n}", "Caddyfile:2:10: 'workers' must be at least 1 (got 0)"),
    .init("block after a one-value option", "{\n\temail a@b.c {\n\t\tx\n\t}\n}",
      "Caddyfile:2:14: 'email' takes no block; remove the '{ … }'"),
  ]

  static let directives: [BadCaddyfile] = [
    .init("typo of reverse_proxy", "a.com {\n\treverse_prxy x:1\n}",
      "Caddyfile:2:2: unknown directive 'reverse_prxy' (did you mean 'reverse_proxy'?)"),
    .init("typo of respond", "a.com {\n\trespnd 200\n}", "Caddyfile:2:2: unknown directive 'respnd' (did you mean 'respond'?)"),
    .init("php_fastcgi", "a.com {\n\tphp_fastcgi localhost:9000\n}", "Caddyfile:2:2: directive 'php_fastcgi' is not supported yet"),
    .init("templates", "a.com {\n\ttemplates\n}", "Caddyfile:2:2: directive 'templates' is not supported yet"),
    .init("root without a path", "a.com {\n\troot *\n}", "Caddyfile:2:7: 'root' needs a directory, e.g. 'root * /srv/www'"),
    .init("root with two paths", "a.com {\n\troot * /a /b\n}", "Caddyfile:2:12: 'root' takes one argument; remove '/b'"),
    .init("root with a block", "a.com {\n\troot * /srv {\n\t\tx\n\t}\n}", "Caddyfile:2:14: 'root' takes no block; remove the '{ … }'"),
    .init("redir with a block", "a.com {\n\tredir /a /b {\n\t\tx\n\t}\n}", "Caddyfile:2:14: 'redir' takes no block; remove the '{ … }'"),
    .init("abort with an argument", "a.com {\n\tabort /x y\n}", "Caddyfile:2:11: 'abort' takes no arguments here; remove 'y'"),
    .init("respond status out of range", "a.com {\n\trespond \"x\" 1000\n}",
      "Caddyfile:2:14: '1000' is not an HTTP status; write a number from 100 to 999"),
    .init("respond with a body in words", "a.com {\n\trespond /x \"a\" \"b\" \"c\"\n}",
      "Caddyfile:2:21: 'respond' takes a status, a body, or a body and a status; remove 'c' (quote a body with spaces)"),
    .init("typo of a respond option", "a.com {\n\trespond {\n\t\tbdy x\n\t}\n}",
      "Caddyfile:3:3: unknown respond option 'bdy' (did you mean 'body'?)"),
    .init("redir code", "a.com {\n\tredir /a /b 200\n}",
      "Caddyfile:2:14: '200' is not a redirect code; use 300–399, permanent or temporary"),
    .init("error status", "a.com {\n\terror 200\n}",
      "Caddyfile:2:8: '200' is not an error status; 'error' takes an optional message and a status from 400 to 599, e.g. error \"gone\" 410"),
    .init("rewrite without a target", "a.com {\n\trewrite\n}",
      "Caddyfile:2:2: 'rewrite' needs a target, e.g. 'rewrite /index.html' or 'rewrite /old/* /new{uri}'"),
    .init("uri operation typo", "a.com {\n\turi strip_prefx /a\n}",
      "Caddyfile:2:6: unknown uri operation 'strip_prefx' (did you mean 'strip_prefix'?); use strip_prefix, strip_suffix or replace"),
    .init("handle_path without a leading /", "a.com {\n\thandle_path static/* {\n\t\trespond x\n\t}\n}",
      "Caddyfile:2:14: 'handle_path' needs a path prefix starting with /, such as /static/*; got 'static/*'"),
    .init("typo of a file_server option", "a.com {\n\tfile_server {\n\t\tindx index.html\n\t}\n}",
      "Caddyfile:3:3: unknown file_server option 'indx' (did you mean 'index'?)"),
    .init("route with an argument", "a.com {\n\troute /x y {\n\t}\n}",
      "Caddyfile:2:11: unexpected 'y' after route; its directives go in a block"),
    .init("tls inside route", "a.com {\n\troute {\n\t\ttls internal\n\t}\n}", "Caddyfile:3:3: 'tls' belongs to the site, not inside route"),
    .init("header without a name", "a.com {\n\theader +\n}", "Caddyfile:2:9: missing header name in '+'"),
    .init("header without a value", "a.com {\n\theader {\n\t\t+X-A\n\t}\n}",
      "Caddyfile:3:3: 'header +X-A' needs a value; write 'header +X-A value'"),
    .init("encode format", "a.com {\n\tencode brotli\n}", "Caddyfile:2:9: encode format 'brotli' (Brotli) is not supported; use zstd or gzip"),
    .init("encode format typo", "a.com {\n\tencode zstd gzp\n}", "Caddyfile:2:14: unknown encode format 'gzp' (did you mean 'gzip'?); use zstd or gzip"),
    .init("browse template", "a.com {\n\tfile_server {\n\t\tbrowse /srv/tpl.html\n\t}\n}",
      "Caddyfile:3:10: a browse template file ('/srv/tpl.html') is not supported yet; write 'browse' alone for edge's listing"),
    .init("request_body size", "a.com {\n\trequest_body {\n\t\tmax_size big\n\t}\n}",
      "Caddyfile:3:12: 'big' is not a size; write e.g. 512, 16KB (1000 bytes each), 16KiB or 10MB"),
    .init("request_body size on its line", "a.com {\n\trequest_body /x 10MB\n}",
      "Caddyfile:2:18: 'request_body' takes no arguments here; remove '10MB'"),
    .init("try_files without files", "a.com {\n\ttry_files\n}",
      "Caddyfile:2:2: 'try_files' needs at least one file, e.g. try_files {path} /index.html"),
  ]

  static let matchers: [BadCaddyfile] = [
    .init("undefined @name", "a.com {\n\treverse_proxy @api x:1\n}",
      "Caddyfile:2:16: matcher '@api' is not defined in this site; define it with '@api { … }'"),
    .init("matcher defined twice", "a.com {\n\t@m method GET\n\t@m method POST\n}", "Caddyfile:3:2: matcher '@m' is defined twice in this site"),
    .init("unknown matcher type", "a.com {\n\t@m {\n\t\tmethd GET\n\t}\n}", "Caddyfile:3:3: unknown matcher 'methd' (did you mean 'method'?)"),
    .init("empty not", "a.com {\n\t@m not\n\trespond @m 403\n}", "Caddyfile:2:5: 'not' needs a matcher to negate, e.g. 'not path /admin/*'"),
    .init("matcher without conditions", "a.com {\n\t@m {\n\t}\n\trespond @m 403\n}",
      "Caddyfile:2:2: matcher '@m' has no conditions; add one, e.g. '@m path /api/*'"),
    .init("matcher defined inside handle", "a.com {\n\thandle {\n\t\t@m path /x\n\t}\n}",
      "Caddyfile:3:3: defining matcher '@m' inside handle is not supported yet; define it at the site level"),
    .init("path matcher without /", "a.com {\n\t@m path api/*\n}", "Caddyfile:2:10: path matcher 'api/*' must start with / or *"),
  ]

  static let reverseProxyAndTLS: [BadCaddyfile] = [
    .init("reverse_proxy without upstream", "a.com {\n\treverse_proxy\n}",
      "Caddyfile:2:2: reverse_proxy needs at least one upstream; write it after the directive or in a 'to' line"),
    .init("upstream scheme", "a.com {\n\treverse_proxy h2c://x:1\n}",
      "Caddyfile:2:16: unsupported upstream scheme 'h2c' in 'h2c://x:1'; write host:port, http://host:port or https://host:port"),
    .init("http and https upstreams mixed", "a.com {\n\treverse_proxy http://a:1 https://b:2\n}",
      "Caddyfile:2:2: reverse_proxy mixes http:// and https:// upstreams; all upstreams of one reverse_proxy use the same scheme (split them into two reverse_proxy directives with matchers)"),
    .init("http upstream with tls", "a.com {\n\treverse_proxy http://a:1 {\n\t\ttransport http {\n\t\t\ttls\n\t\t}\n\t}\n}",
      "Caddyfile:2:2: upstreams are written http:// but the transport has TLS on; write https:// (or nothing) before them, or remove the tls options"),
    .init("tls_trusted_ca_certs without files", "a.com {\n\treverse_proxy a:1 {\n\t\ttransport http {\n\t\t\ttls_trusted_ca_certs\n\t\t}\n\t}\n}",
      "Caddyfile:4:4: 'tls_trusted_ca_certs' needs at least one PEM file, e.g. 'tls_trusted_ca_certs /etc/edge/ca.pem'"),
    .init("proxy_protocol version", "a.com {\n\treverse_proxy a:1 {\n\t\ttransport http {\n\t\t\tproxy_protocol v3\n\t\t}\n\t}\n}",
      "Caddyfile:4:19: proxy_protocol 'v3' is not a PROXY protocol version; write v1 or v2"),
    .init("negative max_conns_per_host", "a.com {\n\treverse_proxy a:1 {\n\t\ttransport http {\n\t\t\tmax_conns_per_host -1\n\t\t}\n\t}\n}",
      "Caddyfile:4:23: 'max_conns_per_host' must be at least 0 (got -1)"),
    .init("skip verify and trusted CAs", "a.com {\n\treverse_proxy https://a:1 {\n\t\ttransport http {\n\t\t\ttls_trusted_ca_certs ca.pem\n\t\t\ttls_insecure_skip_verify\n\t\t}\n\t}\n}",
      "Caddyfile:2:2: tls_trusted_ca_certs and tls_insecure_skip_verify contradict each other (nothing is verified with the second); keep one"),
    .init("transport option not built", "a.com {\n\treverse_proxy a:1 {\n\t\ttransport http {\n\t\t\ttls_client_auth c.pem k.pem\n\t\t}\n\t}\n}",
      "Caddyfile:4:4: transport option 'tls_client_auth' is not supported yet"),
    .init("upstream port", "a.com {\n\treverse_proxy :0\n}", "Caddyfile:2:16: invalid port '0' in upstream ':0'; use a number from 1 to 65535"),
    .init("empty 'to'", "a.com {\n\treverse_proxy x:1 {\n\t\tto\n\t}\n}", "Caddyfile:3:3: 'to' needs at least one upstream, e.g. 'to app:8080'"),
    .init("lb_policy typo", "a.com {\n\treverse_proxy x:1 {\n\t\tlb_policy round_robn\n\t}\n}",
      "Caddyfile:3:13: unknown lb_policy 'round_robn' (did you mean 'round_robin'?); edge has random, random_choose, round_robin, weighted_round_robin, least_conn, ip_hash, client_ip_hash, first, uri_hash, query, header, cookie"),
    .init("transport duration", "a.com {\n\treverse_proxy x:1 {\n\t\ttransport http {\n\t\t\tdial_timeout fast\n\t\t}\n\t}\n}",
      "Caddyfile:4:17: 'fast' is not a duration; write e.g. 500ms, 10s, 5m, 1h or 1m30s"),
    .init("transport option typo", "a.com {\n\treverse_proxy x:1 {\n\t\ttransport http {\n\t\t\tdial_timout 1s\n\t\t}\n\t}\n}",
      "Caddyfile:4:4: unknown transport option 'dial_timout' (did you mean 'dial_timeout'?)"),
    .init("transport option outside transport", "a.com {\n\treverse_proxy x:1 {\n\t\tkeepalive off\n\t}\n}",
      "Caddyfile:3:3: 'keepalive' is a transport option; write it inside 'transport http { … }'"),
    .init("zero stream_timeout", "a.com {\n\treverse_proxy x:1 {\n\t\tstream_timeout 0\n\t}\n}",
      "Caddyfile:3:18: 'stream_timeout' must be positive; write e.g. 30s"),
    .init("tls1.1", "a.com {\n\ttls {\n\t\tprotocols tls1.1\n\t}\n}",
      "Caddyfile:3:13: unsupported TLS version 'tls1.1' (did you mean 'tls1.2'?); edge accepts tls1.2 and tls1.3"),
    .init("tls certificate without key", "a.com {\n\ttls cert.pem\n}",
      "Caddyfile:2:6: 'tls cert.pem' is neither 'internal' nor an email; for certificate files write 'tls <cert_file> <key_file>'"),
    .init("tls twice", "a.com {\n\ttls internal\n\ttls internal\n}", "Caddyfile:3:2: 'tls' is written twice in this site; merge them"),
  ]

  @Test(arguments: lexer + parser + addresses + globalOptions + directives + matchers + reverseProxyAndTLS)
  func refuses(_ bad: BadCaddyfile) {
    #expect(corpusFailure(bad.text) == bad.message)
  }

  @Test func corpusIsBroad() {
    let all = Self.lexer + Self.parser + Self.addresses + Self.globalOptions + Self.directives + Self.matchers
      + Self.reverseProxyAndTLS
    #expect(all.count >= 40)
    #expect(Set(all.map(\.label)).count == all.count, "labels name the cases in test output; keep them unique")
  }
}
