import EdgeCaddyfile
import Testing

@testable import EdgeConfig

func adapt(_ text: String, env: [String: String] = [:]) throws(ConfigError) -> EdgeConfig {
  try CaddyfileAdapter.adapt(text: text, filename: "Caddyfile", environment: env)
}

/// The description of the error adapting `text` throws, or "no error".
func failure(_ text: String) -> String {
  do {
    _ = try adapt(text)
    return "no error"
  } catch {
    return error.description
  }
}

@Suite struct SeedCaddyfileTests {
  @Test func torrustTrackerAdapts() throws {
    let config = try adapt("""
      # Torrust tracker demo
      {
      	email admin@torrust.com
      	admin 0.0.0.0:2019
      }

      # Tracker API
      api.torrust-tracker.com {
      	reverse_proxy tracker:1212
      }

      # HTTP tracker
      http1.torrust-tracker.com {
      	reverse_proxy tracker:7070
      }

      grafana.torrust-tracker.com {
      	reverse_proxy grafana:3000
      }
      """)
    try config.validate()
    #expect(config.global.email == "admin@torrust.com")
    #expect(config.global.admin == "0.0.0.0:2019")
    #expect(config.sites.map { $0.addresses[0].host } == [
      "api.torrust-tracker.com", "http1.torrust-tracker.com", "grafana.torrust-tracker.com",
    ])
    let upstreams = config.sites.map { site -> Upstream? in
      if case .reverseProxy(let p) = site.routes[0].handler { return p.upstreams[0] }
      return nil
    }
    #expect(upstreams == [
      Upstream(host: "tracker", port: 1212), Upstream(host: "tracker", port: 7070), Upstream(host: "grafana", port: 3000),
    ])
    #expect(config.sites[1].location == SourceLocation(file: "Caddyfile", line: 13, column: 1))
  }

  @Test func triviaFlowTypoAndFullBlock() throws {
    let text = """
      {
      	email admin@triviaflow.com
      }

      triviaflow.com {
      	encod gzip
      }
      """
    #expect(failure(text) == "Caddyfile:6:2: unknown directive 'encod' (did you mean 'encode'?)")
    let trivia = """
      {
      	email admin@triviaflow.com
      }

      triviaflow.com {
      	handle_path /api/* {
      		reverse_proxy backend:8000
      	}
      	root * /srv/www
      	file_server
      }
      """
    // handle_path, root and file_server are built: the whole block adapts, in Caddy's order.
    let site = try adapt(trivia).sites[0]
    #expect(site.routes.map(\.handler).map { handler -> String in
      switch handler {
      case .root: "root"
      case .group: "handle_path"
      case .fileServer: "file_server"
      default: "other"
      }
    } == ["root", "handle_path", "file_server"])
  }

  @Test func embeddedDefaultAndDemo() throws {
    let config = try adapt("""
      {
      	http_port 8080
      }

      http://localhost:8080, http://127.0.0.1:8080 {
      	reverse_proxy /demo/* 127.0.0.1:8081
      	respond "edge is running.\\n" 200
      }
      """)
    try config.validate()
    #expect(config.global.httpPort == 8080)
    #expect(config.sites[0].addresses.map(\.host) == ["localhost", "127.0.0.1"])
    #expect(config.sites[0].routes.count == 2)
    guard case .respond(let r) = config.sites[0].routes[0].handler else { Issue.record("respond first"); return }
    #expect(r.body == "edge is running.\\n" && r.status == 200)
  }
}

@Suite struct GlobalOptionsTests {
  @Test func allSupportedOptions() throws {
    let config = try adapt("""
      {
      	workers 4
      	http_port 8080
      	https_port 8443
      	grace_period 1m30s
      	email a@b.c
      	admin off
      	log {
      		level DEBUG
      	}
      	servers {
      		timeouts {
      			read_header 5s
      			read_body 30s
      			write 45s
      			idle 2m
      		}
      		max_header_size 32KB
      		max_uri_length 4KiB
      		max_header_count 50
      	}
      }
      """)
    let g = config.global
    #expect(g.workers == 4 && g.httpPort == 8080 && g.httpsPort == 8443)
    #expect(g.gracePeriod == .seconds(90) && g.email == "a@b.c" && g.admin == "off" && g.logLevel == "debug")
    #expect(g.servers == ServerOptions(
      readHeaderTimeout: .seconds(5), readBodyTimeout: .seconds(30), writeTimeout: .seconds(45),
      idleTimeout: .seconds(120), maxHeaderBytes: 32_000, maxURIBytes: 4096, maxHeaderCount: 50))
  }

  @Test func adminWithBlockIsAccepted() throws {
    let config = try adapt("{\n\tadmin localhost:2020 {\n\t\torigins x\n\t}\n}")
    #expect(config.global.admin == "localhost:2020")
  }

  @Test func unsupportedAndUnknownOptions() {
    #expect(failure("{\n\tfallback_sni a.test\n}") == "Caddyfile:2:2: global option 'fallback_sni' is not supported yet")
    #expect(failure("{\n\tworkerz 2\n}") == "Caddyfile:2:2: unknown global option 'workerz' (did you mean 'workers'?)")
    #expect(failure("{\n\tfrobnicate\n}") == "Caddyfile:2:2: unknown global option 'frobnicate'")
  }

  @Test func badValuesPointAtTheValue() {
    #expect(failure("{\n\tgrace_period soon\n}").hasPrefix("Caddyfile:2:15: 'soon' is not a duration"))
    #expect(failure("{\n\tworkers\n}").hasPrefix("Caddyfile:2:2: wrong number of arguments"))
    #expect(failure("{\n\tworkers 2 3\n}") == "Caddyfile:2:12: 'workers' takes one argument; remove '3'")
    #expect(failure("{\n\tservers {\n\t\tmax_header_size lots\n\t}\n}").hasPrefix("Caddyfile:3:19: 'lots' is not a size"))
    #expect(failure("{\n\tservers {\n\t\ttimeouts {\n\t\t\tidel 1s\n\t\t}\n\t}\n}")
      == "Caddyfile:4:4: unknown timeout 'idel' (did you mean 'idle'?)")
    #expect(failure("{\n\tlog {\n\t\tlevel loud\n\t}\n}").contains("unknown log level 'loud'"))
  }
}
