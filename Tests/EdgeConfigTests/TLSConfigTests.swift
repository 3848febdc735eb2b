import EdgeConfig
import Testing

@Suite("tls directive and TLS global options")
struct TLSConfigTests {
  func tls(_ body: String) throws(ConfigError) -> SiteTLS? {
    try adapt("a.test {\n\t\(body)\n}").sites[0].tls
  }

  @Test func forms() throws {
    #expect(try tls("tls internal") == SiteTLS(certificates: .internal))
    #expect(try tls("tls ops@example.com") == SiteTLS(email: "ops@example.com"))
    #expect(try tls("tls cert.pem key.pem") == SiteTLS(certificates: .files(certificate: "cert.pem", key: "key.pem")))
    #expect(try tls("tls internal {\n\t\tprotocols tls1.3\n\t}") == SiteTLS(certificates: .internal, minVersion: "tls1.3"))
    #expect(try tls("tls {\n\t\tprotocols tls1.2 tls1.3\n\t}") == SiteTLS(minVersion: "tls1.2", maxVersion: "tls1.3"))
    #expect(try tls("respond hi") == nil)
  }

  @Test func ciphersAndCurves() throws {
    let parsed = try tls("tls internal {\n\t\tciphers TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n\t\tcurves x25519 secp384r1\n\t}")
    #expect(parsed?.ciphers == ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"])
    #expect(parsed?.curves == ["x25519", "secp384r1"])
    #expect(failure("a.test {\n\ttls {\n\t\tciphers TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA265\n\t}\n}")
      == "Caddyfile:3:11: unknown cipher suite 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA265' (did you mean 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'?)")
    #expect(failure("a.test {\n\ttls {\n\t\tcurves x448\n\t}\n}") == "Caddyfile:3:10: unknown curve 'x448'")
    #expect(failure("a.test {\n\ttls {\n\t\tcurves\n\t}\n}") == "Caddyfile:3:3: 'curves' needs at least one curve")
  }

  @Test func errorsPointAtTheToken() {
    #expect(failure("a.test {\n\ttls {\n\t\tprotocols tls1.1\n\t}\n}")
      == "Caddyfile:3:13: unsupported TLS version 'tls1.1' (did you mean 'tls1.2'?); edge accepts tls1.2 and tls1.3")
    #expect(failure("a.test {\n\ttls {\n\t\tprotocols tls1.3 tls1.2\n\t}\n}")
      == "Caddyfile:3:20: 'protocols tls1.3 tls1.2': the minimum is newer than the maximum")
    #expect(failure("a.test {\n\ttls {\n\t\ton_demand\n\t}\n}") == "Caddyfile:3:3: tls option 'on_demand' is not supported yet")
    #expect(failure("a.test {\n\ttls {\n\t\tprotocol tls1.2\n\t}\n}")
      == "Caddyfile:3:3: unknown tls option 'protocol' (did you mean 'protocols'?)")
    #expect(failure("a.test {\n\ttls a b c\n}") == "Caddyfile:2:10: 'tls' takes 'internal', an email, or a certificate file and a key file")
    #expect(failure("a.test {\n\ttls internal\n\ttls internal\n}") == "Caddyfile:3:2: 'tls' is written twice in this site; merge them")
  }

  @Test func globalOptions() throws {
    let g = try adapt("{\n\tstorage file_system /var/lib/edge\n\tlocal_certs\n\tauto_https disable_redirects\n\tdefault_sni A.test\n}").global
    #expect(g.storage == "/var/lib/edge")
    #expect(g.localCerts)
    #expect(g.autoHTTPS == .disableRedirects)
    #expect(g.defaultSNI == "a.test")
    #expect(try adapt("{\n\tstorage file_system {\n\t\troot /srv/edge\n\t}\n}").global.storage == "/srv/edge")
    #expect(failure("{\n\tstorage redis\n}") == "Caddyfile:2:10: storage backend 'redis' is not supported yet; use 'file_system <path>'")
    #expect(failure("{\n\tauto_https sometimes\n}") == "Caddyfile:2:13: unknown 'auto_https sometimes'; use 'off' or 'disable_redirects'")
  }

  @Test("JSON round trip keeps the TLS settings")
  func jsonRoundTrip() throws {
    let config = try adapt("{\n\tlocal_certs\n\tauto_https off\n}\na.test {\n\ttls c.pem k.pem {\n\t\tprotocols tls1.3\n\t}\n}")
    let decoded = try EdgeConfig(json: config.jsonString(pretty: false))
    #expect(decoded == config)
  }

  @Test("which addresses are HTTPS, and on which port")
  func listening() {
    let global = GlobalOptions(httpPort: 80, httpsPort: 443)
    func check(_ text: String, tls: SiteTLS? = nil) -> Listening {
      let address = try! SiteAddress(parsing: text)
      return Site(addresses: [address], tls: tls).listening(address, global: global)
    }
    #expect(check("example.com") == Listening(port: 443, secure: true))
    #expect(check("example.com:8443") == Listening(port: 8443, secure: true))
    #expect(check("http://example.com") == Listening(port: 80, secure: false))
    #expect(check("example.com:80") == Listening(port: 80, secure: false))
    #expect(check(":8080") == Listening(port: 8080, secure: false))
    #expect(check(":8080", tls: SiteTLS(certificates: .internal)) == Listening(port: 8080, secure: true))
    #expect(check("https://:9443") == Listening(port: 9443, secure: true))
    #expect(check(":443") == Listening(port: 443, secure: true))
  }

  @Test func internalNames() {
    for name in ["localhost", "a.localhost", "127.0.0.1", "::1", "printer.local", "db.internal", "nas.home.arpa"] {
      #expect(SiteAddress.isInternalName(name), "\(name)")
    }
    for name in ["example.com", "localhost.example.com", "10.0.0.1.example.com", "1.2.3"] {
      #expect(!SiteAddress.isInternalName(name), "\(name)")
    }
  }
}
