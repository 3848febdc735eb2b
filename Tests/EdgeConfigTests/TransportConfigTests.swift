import Testing

@testable import EdgeConfig

/// `transport http` towards upstreams (TLS, limits, PROXY headers) and `servers` forwarding options.
@Suite struct TransportConfigTests {
  @Test func httpsUpstreamTurnsTLSOnWithPort443ByDefault() throws {
    let p = proxy(try routes("reverse_proxy https://app https://b:8443")[0])
    #expect(p?.upstreams == [Upstream(host: "app", port: 443, scheme: "https"), Upstream(host: "b", port: 8443, scheme: "https")])
    #expect(p?.transport.tls == UpstreamTLS())
  }

  @Test func everyTLSOption() throws {
    let p = proxy(try routes("""
      reverse_proxy app:8443 {
      	transport http {
      		tls_server_name app.internal
      		tls_trusted_ca_certs /etc/ca1.pem /etc/ca2.pem
      		tls_timeout 3s
      		max_conns_per_host 8
      		proxy_protocol v2
      		keepalive_idle_conns_per_host 4
      	}
      }
      """)[0])
    #expect(
      p?.transport.tls
        == UpstreamTLS(serverName: "app.internal", trustedCACerts: ["/etc/ca1.pem", "/etc/ca2.pem"], handshakeTimeout: .seconds(3)))
    #expect(p?.transport.maxConnsPerHost == 8)
    #expect(p?.transport.proxyProtocol == .v2)
    #expect(p?.transport.keepAliveIdleConns == 4)
  }

  @Test func plainTLSAndSkipVerify() throws {
    let p = proxy(try routes("reverse_proxy a:1 {\n\ttransport http {\n\t\ttls\n\t\ttls_insecure_skip_verify\n\t}\n}")[0])
    #expect(p?.transport.tls == UpstreamTLS(insecureSkipVerify: true))
    let zero = proxy(try routes("reverse_proxy a:1 {\n\ttransport http {\n\t\tmax_conns_per_host 0\n\t}\n}")[0])
    #expect(zero?.transport.maxConnsPerHost == nil)
    let plain = proxy(try routes("reverse_proxy http://a:1 a:2")[0])
    #expect(plain?.transport.tls == nil)
  }

  @Test func errorsPointAtTheToken() {
    #expect(failure("a.com {\n\treverse_proxy a:1 {\n\t\ttransport http {\n\t\t\ttls_timeout 0s\n\t\t}\n\t}\n}")
      == "Caddyfile:4:16: 'tls_timeout' must be positive; write e.g. 30s")
    #expect(failure("a.com {\n\treverse_proxy a:1 {\n\t\ttransport http {\n\t\t\ttls_servername x\n\t\t}\n\t}\n}")
      == "Caddyfile:4:4: unknown transport option 'tls_servername' (did you mean 'tls_server_name'?)")
    #expect(failure("a.com {\n\treverse_proxy a:1 {\n\t\ttransport http {\n\t\t\ttls extra\n\t\t}\n\t}\n}")
      == "Caddyfile:4:8: 'tls' takes no arguments here; remove 'extra'")
    #expect(failure("a.com {\n\treverse_proxy https://a:1 http://b:2\n}").hasPrefix("Caddyfile:2:2: reverse_proxy mixes http:// and https://"))
  }

  @Test func serversForwardingOptions() throws {
    let config = try adapt("""
      {
      	servers {
      		listener_wrappers {
      			proxy_protocol {
      				timeout 2s
      				allow 10.0.0.0/8 192.0.2.1
      				deny 10.9.0.0/16
      				fallback_policy REJECT
      			}
      			tls
      		}
      		trusted_proxies static private_ranges 203.0.113.0/24
      		trusted_proxies_strict
      		client_ip_headers X-Real-IP X-Forwarded-For
      	}
      }
      a.test {
      	respond hi
      }
      """)
    let servers = config.global.servers
    #expect(
      servers.proxyProtocol
        == ProxyProtocolListener(timeout: .seconds(2), allow: ["10.0.0.0/8", "192.0.2.1"], deny: ["10.9.0.0/16"], fallbackPolicy: .reject))
    #expect(servers.trustedProxies == TrustedProxyRanges.privateRanges + ["203.0.113.0/24"])
    #expect(servers.clientIPHeaders == ["X-Real-IP", "X-Forwarded-For"])
    #expect(try adapt("{\n\tservers {\n\t\tlistener_wrappers {\n\t\t\tproxy_protocol\n\t\t}\n\t}\n}").global.servers.proxyProtocol
      == ProxyProtocolListener())
  }

  @Test func remoteAndClientIPMatchersAreDistinct() throws {
    let config = try adapt("a.test {\n\t@a remote_ip 10.0.0.1\n\t@b client_ip private_ranges\n\trespond @a 403\n\trespond @b 401\n}")
    let matchers = config.sites[0].routes.compactMap(\.matcher)
    #expect(matchers.contains { $0.remoteIPs == ["10.0.0.1"] && $0.clientIPs == nil })
    #expect(matchers.contains { $0.clientIPs == TrustedProxyRanges.privateRanges && $0.remoteIPs == nil })
  }

  @Test func everyNewFieldRoundTripsThroughJSON() throws {
    let config = try adapt("""
      {
      	servers {
      		listener_wrappers {
      			proxy_protocol {
      				timeout 1s
      				allow 10.0.0.0/8
      				fallback_policy require
      			}
      		}
      		trusted_proxies static 10.0.0.0/8
      		client_ip_headers X-Real-IP
      	}
      }
      a.test {
      	@peer remote_ip 10.0.0.0/8
      	respond @peer 204
      	reverse_proxy https://app:8443 {
      		transport http {
      			tls_server_name app.internal
      			tls_trusted_ca_certs /ca.pem
      			tls_timeout 4s
      			max_conns_per_host 3
      			proxy_protocol v1
      		}
      	}
      }
      """)
    let json = config.jsonString(pretty: false)
    #expect(json.contains(#""scheme":"https""#))
    #expect(json.contains(#""proxyProtocol":"v1""#))
    #expect(json.contains(#""fallbackPolicy":"require""#))
    #expect(try EdgeConfig(json: json) == config)
    // Without the new fields the JSON stays as it was.
    let plain = try adapt("a.test {\n\treverse_proxy a:1\n}").jsonString(pretty: false)
    for key in ["tls", "maxConnsPerHost", "proxyProtocol", "trustedProxies", "clientIPHeaders", "scheme"] {
      #expect(!plain.contains("\"\(key)\""), "\(key) written for a config that does not set it")
    }
  }

  @Test func jsonIsValidatedToo() throws {
    func check(_ transport: String, upstream: String = #"{"host":"a","port":1}"#) -> String {
      let json = #"{"version":1,"global":{},"sites":[{"addresses":[{"original":":80","port":80}],"routes":[{"handler":{"reverseProxy":{"upstreams":["#
        + upstream + #"],"transport":"# + transport + "}}}]}]}"
      do {
        try EdgeConfig(json: json).validate()
        return "no error"
      } catch {
        return error.message
      }
    }
    #expect(check(#"{"maxConnsPerHost":0}"#).hasPrefix("max_conns_per_host must be at least 1"))
    #expect(check("{}", upstream: #"{"host":"a","port":1,"scheme":"https"}"#).hasPrefix("https:// upstreams need"))
    #expect(check(#"{"tls":{"handshakeTimeout":"0s"}}"#).hasPrefix("tls_timeout must be positive"))
    #expect(check(#"{"tls":{}}"#, upstream: #"{"host":"a","port":1,"scheme":"ftp"}"#).hasPrefix("upstream scheme 'ftp'"))
    #expect(check(#"{"proxyProtocol":"v2","tls":{"serverName":"a.b"}}"#) == "no error")
  }
}
