import Foundation
import EdgeConfig
import Testing

@Suite("handle, handle_path, root, file_server, redir")
struct HandleDirectiveTests {
  /// Seed 003's site block, as its operators wrote it.
  static let seed003 = """
    quiz.example.test {
    	handle_path /static/* {
    		root * /srv/static
    		file_server
    	}
    	handle_path /media/* {
    		root * /srv/media
    		file_server
    	}
    	reverse_proxy web:8000
    }
    """

  @Test("seed 003 adapts: two handle_path groups before the proxy") func seed() throws {
    let site = try adapt(Self.seed003).sites[0]
    #expect(site.routes.count == 3)
    guard case .group(let statics) = site.routes[0].handler, case .group(let media) = site.routes[1].handler else {
      Issue.record("groups are not first: \(site.routes)")
      return
    }
    #expect(site.routes[0].matcher == RequestMatcher(paths: ["/static/*"]))
    #expect(statics.stripPrefix == "/static")
    #expect(media.stripPrefix == "/media")
    #expect(statics.routes.map(\.handler) == [.root("/srv/static"), .fileServer(FileServerConfig())])
    guard case .reverseProxy = site.routes[2].handler else {
      Issue.record("the proxy is not last")
      return
    }
  }

  @Test func handleKeepsThePathAndSortsItsRoutes() throws {
    let site = try adapt("a.test {\n\thandle /api/* {\n\t\treverse_proxy x:1\n\t\theader X-A b\n\t}\n\thandle {\n\t\trespond 404\n\t}\n}").sites[0]
    guard case .group(let api) = site.routes[0].handler, case .group(let rest) = site.routes[1].handler else {
      Issue.record("\(site.routes)")
      return
    }
    #expect(api.stripPrefix == nil)
    guard case .headers = api.routes[0].handler else {
      Issue.record("header does not come first inside handle")
      return
    }
    #expect(site.routes[1].matcher == nil)
    #expect(rest.routes.count == 1)
  }

  @Test func fileServerOptions() throws {
    let route = try routes("file_server /downloads/* {\n\t\troot /srv/dl\n\t\tindex index.html default.htm\n\t\thide .secret\n\t\tprecompressed br gzip\n\t}")[0]
    #expect(route.handler == .fileServer(FileServerConfig(
      root: "/srv/dl", indexNames: ["index.html", "default.htm"], hide: [".secret"], precompressed: ["br", "gzip"])))
  }

  @Test func redirects() throws {
    #expect(try routes("redir https://b.test{uri}")[0].handler == .redirect(Redirect(to: "https://b.test{uri}")))
    #expect(try routes("redir /old /new permanent")[0].handler == .redirect(Redirect(to: "/new", status: 301)))
    #expect(try routes("redir /old /new 308")[0].handler == .redirect(Redirect(to: "/new", status: 308)))
  }

  @Test func errors() {
    #expect(failure("a.test {\n\thandle_path {\n\t\trespond x\n\t}\n}") == "Caddyfile:2:2: 'handle_path' needs a path prefix such as /static/*")
    #expect(failure("a.test {\n\tfile_server browse extra\n}") == "Caddyfile:2:21: unexpected 'extra' after file_server browse; options go in its block")
    #expect(failure("a.test {\n\tfile_server {\n\t\tbrowse /tpl.html\n\t}\n}")
      == "Caddyfile:3:10: a browse template file ('/tpl.html') is not supported yet; write 'browse' alone for edge's listing")
    #expect(failure("a.test {\n\tfile_server {\n\t\tbrowse {\n\t\t\tsort size desc\n\t\t}\n\t}\n}")
      == "Caddyfile:4:4: 'sort' inside browse is not supported yet; remove it")
    #expect(failure("a.test {\n\tfile_server {\n\t\tbrows\n\t}\n}") == "Caddyfile:3:3: unknown file_server option 'brows' (did you mean 'browse'?)")
    #expect(failure("a.test {\n\tfile_server {\n\t\tprecompressed lzma\n\t}\n}") == "Caddyfile:3:17: unknown precompressed encoding 'lzma'; use br, zstd or gzip")
    #expect(failure("a.test {\n\tredir /a /b 200\n}") == "Caddyfile:2:14: '200' is not a redirect code; use 300–399, permanent or temporary")
    #expect(failure("a.test {\n\thandle {\n\t\trespnd 1\n\t}\n}") == "Caddyfile:3:3: unknown directive 'respnd' (did you mean 'respond'?)")
    #expect(failure("a.test {\n\thandle {\n\t\ttls internal\n\t}\n}") == "Caddyfile:3:3: 'tls' belongs to the site, not inside handle")
  }

  @Test("file_server browse, as an argument or in the block") func browse() throws {
    #expect(try routes("file_server browse")[0].handler == .fileServer(FileServerConfig(browse: true)))
    #expect(try routes("file_server /files/* browse")[0].matcher == RequestMatcher(paths: ["/files/*"]))
    #expect(try routes("file_server {\n\t\tbrowse\n\t\thide .git\n\t}")[0].handler == .fileServer(FileServerConfig(hide: [".git"], browse: true)))
    #expect(try routes("file_server browse {\n\t\troot /srv\n\t}")[0].handler == .fileServer(FileServerConfig(root: "/srv", browse: true)))
    #expect(try routes("file_server")[0].handler == .fileServer(FileServerConfig()))
  }

  @Test("browse is in the JSON only when on; JSON without it still decodes") func browseJSON() throws {
    let plain = try adapt("a.test {\n\tfile_server\n}")
    #expect(!plain.jsonString(pretty: false).contains("browse"))
    let browsing = try adapt("a.test {\n\tfile_server browse\n}")
    #expect(browsing.jsonString(pretty: false).contains(#""browse":true"#))
    #expect(try EdgeConfig(json: browsing.jsonString(pretty: false)) == browsing)
    let old = #"{"indexNames":["index.html"],"hide":[],"precompressed":[]}"#
    let decoded = try JSONDecoder().decode(FileServerConfig.self, from: Data(old.utf8))
    #expect(decoded == FileServerConfig(indexNames: ["index.html"]))
  }

  @Test("JSON round trip of groups") func json() throws {
    let config = try adapt(Self.seed003)
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
  }
}

@Suite struct HandleOrderTests {
  @Test("handle_path sorts with handle by path: a catch-all handle comes after both")
  func order() throws {
    let site = try adapt("a.test {\n\thandle {\n\t\trespond fallback\n\t}\n\thandle_path /up/* {\n\t\trespond up\n\t}\n\thandle /api/* {\n\t\trespond api\n\t}\n}").sites[0]
    #expect(site.routes.map { $0.matcher?.paths ?? [] } == [["/api/*"], ["/up/*"], []])
  }
}

@Suite struct RewriteDirectiveTests {
  @Test func forms() throws {
    #expect(try routes("rewrite /old/* /new{uri}")[0].handler == .rewrite(URIRewrite(.to, "/new{uri}")))
    #expect(try routes("uri strip_prefix /api")[0].handler == .rewrite(URIRewrite(.stripPrefix, "/api")))
    #expect(try routes("uri replace a b")[0].handler == .rewrite(URIRewrite(.replace, "a", with: "b")))
    #expect(try routes("abort /admin/*")[0].handler == .abort)
    #expect(try routes("error /gone \"moved away\" 410")[0].handler == .error(ErrorResponse(status: 410, message: "moved away")))
    #expect(try routes("error 403")[0].handler == .error(ErrorResponse(status: 403)))
  }

  @Test("route keeps its written order inside; rewrite and uri come before handle, abort and error before respond")
  func order() throws {
    let sorted = try routes("respond x\nerror 500\nhandle {\n\t\trespond y\n\t}\nuri strip_prefix /a\nrewrite /b\nroute {\n\t\trespond z\n\t\theader A b\n\t}")
    let names = sorted.map { route -> String in
      switch route.handler {
      case .rewrite(let r): r.operation == .to ? "rewrite" : "uri"
      case .group: "handle"
      case .route(let group):
        if case .respond = group.routes[0].handler { "route(respond first)" } else { "route(reordered)" }
      case .error: "error"
      case .respond: "respond"
      default: "other"
      }
    }
    #expect(names == ["rewrite", "uri", "handle", "route(respond first)", "error", "respond"])
  }

  @Test func errors() {
    #expect(failure("a.test {\n\trewrite index.html\n}") == "Caddyfile:2:10: rewrite target 'index.html' must start with / or ? (a path and/or a query)")
    #expect(failure("a.test {\n\turi chop /x\n}") == "Caddyfile:2:6: unknown uri operation 'chop'; use strip_prefix, strip_suffix or replace")
    #expect(failure("a.test {\n\terror 200\n}").hasSuffix("'error' takes an optional message and a status from 400 to 599, e.g. error \"gone\" 410"))
  }
}

@Suite struct TryFilesTests {
  @Test func forms() throws {
    #expect(try routes("try_files {path} /index.html")[0].handler == .tryFiles(["{path}", "/index.html"]))
    #expect(try routes("try_files /app/* {path} /app/index.html")[0].matcher == RequestMatcher(paths: ["/app/*"]))
    #expect(failure("a.test {\n\ttry_files {path} =404\n}") == "Caddyfile:2:19: try_files status '=404' is not supported yet")
  }
}

@Suite struct EncodeDirectiveTests {
  func encode(_ text: String) throws -> EncodeConfig? {
    if case .encode(let config) = try routes(text)[0].handler { return config }
    return nil
  }

  @Test("formats in the server's order; encode alone is Caddy's zstd gzip") func forms() throws {
    #expect(try encode("encode gzip") == EncodeConfig(formats: ["gzip"]))
    #expect(try encode("encode zstd gzip") == EncodeConfig(formats: ["zstd", "gzip"]))
    #expect(try encode("encode gzip zstd") == EncodeConfig(formats: ["gzip", "zstd"]))
    #expect(try encode("encode") == EncodeConfig(formats: ["zstd", "gzip"]))
    #expect(try encode("encode {\n\t\tminimum_length 1024\n\t}") == EncodeConfig(formats: ["zstd", "gzip"], minimumLength: 1024))
    #expect(try encode("encode {\n\t\tgzip\n\t\tminimum_length 1024\n\t}") == EncodeConfig(formats: ["gzip"], minimumLength: 1024))
    // Caddy's order: the block's formats, then the line's.
    #expect(try encode("encode gzip {\n\t\tzstd\n\t}") == EncodeConfig(formats: ["zstd", "gzip"]))
  }

  @Test("levels: gzip 1–9, zstd by Caddy's names") func levels() throws {
    #expect(try encode("encode {\n\t\tgzip 9\n\t}") == EncodeConfig(formats: ["gzip"], gzipLevel: 9))
    #expect(try encode("encode {\n\t\tzstd better\n\t\tgzip 1\n\t}") == EncodeConfig(formats: ["zstd", "gzip"], gzipLevel: 1, zstdLevel: "better"))
    #expect(EncodeConfig.zstdLevelNumber(nil) == 3 && EncodeConfig.zstdLevelNumber("best") == 11)
    #expect(failure("a.test {\n\tencode {\n\t\tgzip 10\n\t}\n}") == "Caddyfile:3:8: gzip level '10' is not a whole number from 1 (fastest) to 9 (smallest)")
    #expect(failure("a.test {\n\tencode {\n\t\tzstd 19\n\t}\n}") == "Caddyfile:3:8: zstd level '19' is not one of fastest, default, better or best")
    #expect(failure("a.test {\n\tencode {\n\t\tgzip 5 6\n\t}\n}") == "Caddyfile:3:10: 'gzip' takes no arguments here; remove '6'")
  }

  @Test("prefer puts the formats it names first") func prefer() throws {
    #expect(try encode("encode zstd gzip {\n\t\tprefer gzip zstd\n\t}") == EncodeConfig(formats: ["gzip", "zstd"]))
    #expect(try encode("encode {\n\t\tprefer gzip\n\t}") == EncodeConfig(formats: ["gzip", "zstd"]))
    #expect(failure("a.test {\n\tencode gzip {\n\t\tprefer zstd gzip\n\t}\n}")
      == "Caddyfile:3:10: 'prefer' names 'zstd', which this encode does not enable; enable it too, e.g. encode zstd …")
    #expect(failure("a.test {\n\tencode {\n\t\tprefer gzip gzip\n\t}\n}") == "Caddyfile:3:15: 'gzip' is given twice in prefer; name each format once")
    #expect(failure("a.test {\n\tencode {\n\t\tprefer\n\t}\n}") == "Caddyfile:3:3: 'prefer' needs the formats in order, e.g. prefer gzip zstd")
  }

  @Test func errors() {
    #expect(failure("a.test {\n\tencode br gzip\n}") == "Caddyfile:2:9: encode format 'br' (Brotli) is not supported; use zstd or gzip")
    #expect(failure("a.test {\n\tencode gzp\n}") == "Caddyfile:2:9: unknown encode format 'gzp' (did you mean 'gzip'?); use zstd or gzip")
    #expect(failure("a.test {\n\tencode gzip gzip\n}") == "Caddyfile:2:14: encode format 'gzip' is given twice; name each format once")
    #expect(failure("a.test {\n\tencode gzip {\n\t\tgzip 5\n\t}\n}") == "Caddyfile:2:9: encode format 'gzip' is given twice; name each format once")
    #expect(failure("a.test {\n\tencode {\n\t\tmatch {\n\t\t\theader Content-Type text/*\n\t\t}\n\t}\n}") == "Caddyfile:3:3: encode option 'match' is not supported yet")
    #expect(failure("a.test {\n\tencode {\n\t\tminimum_lenght 5\n\t}\n}") == "Caddyfile:3:3: unknown encode option 'minimum_lenght' (did you mean 'minimum_length'?)")
  }

  @Test("the JSON keeps the order and leaves unset levels out") func json() throws {
    let config = try adapt("a.test {\n\tencode gzip zstd\n}")
    let json = config.jsonString(pretty: false)
    #expect(json.contains(#"{"encode":{"formats":["gzip","zstd"],"minimumLength":512}}"#))
    #expect(try EdgeConfig(json: json) == config)
  }
}

@Suite struct HandleErrorsTests {
  @Test func blocksWithStatusesComeBeforeTheCatchAll() throws {
    let site = try adapt("""
      a.test {
      	handle_errors {
      		respond "{err.status_code}"
      	}
      	handle_errors 404 5XX {
      		file_server
      		rewrite * /{err.status_code}.html
      	}
      	respond "ok"
      }
      """).sites[0]
    let errors = try #require(site.errors)
    #expect(errors.map(\.statuses) == [["404", "5xx"], []])
    #expect(errors[0].routes.map(\.handler) == [.rewrite(URIRewrite(.to, "/{err.status_code}.html")), .fileServer(FileServerConfig())])
    #expect(errors[1].routes.map(\.handler) == [.respond(Respond(body: "{err.status_code}"))])
    #expect(site.routes.count == 1)
    #expect(ErrorRoutes.ranges(["404", "5xx"]) == [404...404, 500...599])
  }

  @Test func respondWithoutAStatusKeepsItUnset() throws {
    #expect(try routes("respond \"x\"")[0].handler == .respond(Respond(body: "x")))
    #expect(try routes("respond 204")[0].handler == .respond(Respond(status: 204)))
  }

  @Test func errors() {
    #expect(failure("a.test {\n\thandle_errors 200 {\n\t\trespond x\n\t}\n}") == "Caddyfile:2:16: '200' is not an error status; handle_errors takes codes such as 404 or classes such as 5xx")
    #expect(failure("a.test {\n\thandle_errors\n}") == "Caddyfile:2:2: handle_errors needs a block of directives, e.g. handle_errors { respond \"{err.status_code}\" }")
    #expect(failure("a.test {\n\thandle {\n\t\thandle_errors {\n\t\t\trespond x\n\t\t}\n\t}\n}") == "Caddyfile:3:3: 'handle_errors' belongs to the site block, not inside another directive")
    #expect(failure("a.test {\n\thandle_errors {\n\t\ttls internal\n\t}\n}") == "Caddyfile:3:3: 'tls' belongs to the site, not inside handle_errors")
  }

  @Test func jsonRoundTripAndValidation() throws {
    var config = try adapt("a.test {\n\thandle_errors 404 {\n\t\trespond gone\n\t}\n}")
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
    config.sites[0].errors![0].statuses = ["3xx"]
    #expect(throws: ConfigError.self) { try config.validate() }
  }
}

@Suite struct BasicAuthDirectiveTests {
  static let hash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"

  @Test func forms() throws {
    let base64 = Data(Self.hash.utf8).base64EncodedString()
    let auth = try routes("basic_auth /admin/* bcrypt \"Staff only\" {\n\t\talice \(Self.hash)\n\t\tbob \(base64)\n\t}")[0]
    #expect(auth.matcher == RequestMatcher(paths: ["/admin/*"]))
    #expect(auth.handler == .basicAuth(BasicAuth(
      accounts: [.init(username: "alice", hash: Self.hash), .init(username: "bob", hash: Self.hash)], realm: "Staff only")))
    #expect(try routes("basicauth {\n\t\talice \(Self.hash)\n\t}")[0].handler == .basicAuth(BasicAuth(accounts: [.init(username: "alice", hash: Self.hash)])))
  }

  @Test func sortsAfterRewritesAndBeforeHandlers() throws {
    let names = try routes("respond ok\n\tbasic_auth {\n\t\ta \(Self.hash)\n\t}\n\tredir /x /y\n\tencode gzip").map { route in
      switch route.handler {
      case .respond: "respond"
      case .basicAuth: "basic_auth"
      case .redirect: "redir"
      case .encode: "encode"
      default: "other"
      }
    }
    #expect(names == ["redir", "basic_auth", "encode", "respond"])
  }

  @Test func errors() {
    #expect(failure("a.test {\n\tbasic_auth {\n\t\talice secret\n\t}\n}") == "Caddyfile:3:9: the password of 'alice' must be a bcrypt hash, not the password itself; make one with 'edge hash-password'")
    #expect(failure("a.test {\n\tbasic_auth\n}") == "Caddyfile:2:2: basic_auth needs a block of accounts: basic_auth { <username> <hash> }")
    #expect(failure("a.test {\n\tbasic_auth bcrypr {\n\t\ta \(Self.hash)\n\t}\n}") == "Caddyfile:2:13: unknown basic_auth hash algorithm 'bcrypr' (did you mean 'bcrypt'?); use bcrypt")
    #expect(failure("a.test {\n\tbasic_auth argon2id {\n\t\ta \(Self.hash)\n\t}\n}") == "Caddyfile:2:13: basic_auth hash algorithm 'argon2id' is not supported yet; use bcrypt")
    #expect(failure("a.test {\n\tbasic_auth {\n\t\talice\n\t}\n}") == "Caddyfile:3:3: basic_auth account 'alice' has no password hash; write 'alice <hash>' (make one with 'edge hash-password')")
    #expect(failure("a.test {\n\tbasic_auth {\n\t\ta \(Self.hash)\n\t\ta \(Self.hash)\n\t}\n}") == "Caddyfile:4:3: basic_auth account 'a' is listed twice")
  }
}

@Suite struct LogDirectiveTests {
  @Test func forms() throws {
    let site = try adapt("a.test {\n\tlog {\n\t\toutput file /var/log/edge/a.log {\n\t\t\troll_size 10MiB\n\t\t\troll_keep 3\n\t\t\tmode 0640\n\t\t}\n\t\tformat console\n\t\tlevel ERROR\n\t}\n}").sites[0]
    #expect(site.log == SiteLog(output: .file, path: "/var/log/edge/a.log", rollSize: 10 * 1024 * 1024, rollKeep: 3, mode: 0o640, format: .console, level: "error"))
    #expect(try adapt("a.test {\n\tlog\n}").sites[0].log == SiteLog())
    let disabled = try adapt("a.test {\n\tlog {\n\t\toutput file a.log {\n\t\t\troll_disabled\n\t\t}\n\t}\n}").sites[0]
    #expect(disabled.log?.rollSize == nil)
    var config = try adapt("a.test {\n\tlog {\n\t\toutput stdout\n\t}\n}")
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
    config = try adapt("a.test {\n\tlog {\n\t\toutput file a.log {\n\t\t\troll_disabled\n\t\t}\n\t}\n}")
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
  }

  @Test func errors() {
    #expect(failure("a.test {\n\tlog {\n\t\toutput fil x\n\t}\n}") == "Caddyfile:3:10: unknown log output 'fil' (did you mean 'file'?); use stdout, stderr, discard or file <path>")
    #expect(failure("a.test {\n\tlog {\n\t\tformat filter\n\t}\n}") == "Caddyfile:3:10: log format 'filter' is not supported yet; use json or console")
    #expect(failure("a.test {\n\tlog access {\n\t}\n}") == "Caddyfile:2:6: named access logs ('log access') are not supported yet; write 'log { … }'")
    #expect(failure("a.test {\n\tlog {\n\t\toutput file x {\n\t\t\troll_keep_for 48h\n\t\t}\n\t}\n}") == "Caddyfile:4:4: log file option 'roll_keep_for' is not supported yet")
    #expect(failure("a.test {\n\tlog {\n\t\thostnames a.test\n\t}\n}") == "Caddyfile:3:3: log option 'hostnames' is not supported yet")
    #expect(failure("a.test {\n\tlog\n\tlog\n}") == "Caddyfile:3:2: 'log' is written twice in this site; merge them")
    #expect(failure("a.test {\n\thandle {\n\t\tlog\n\t}\n}") == "Caddyfile:3:3: 'log' belongs to the site block, not inside another directive")
  }
}
