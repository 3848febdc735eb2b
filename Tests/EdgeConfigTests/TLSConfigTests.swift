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
    #expect(failure("a.test {\n\ttls {\n\t\tclient_auth\n\t}\n}") == "Caddyfile:3:3: tls option 'client_auth' is not supported yet")
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
    #expect(failure("{\n\tauto_https sometimes\n}") == "Caddyfile:2:13: unknown 'auto_https sometimes'; use off, disable_redirects or disable_certs")
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

@Suite struct ACMEConfigTests {
  @Test func globalOptions() throws {
    let global = try adapt("""
      {
      	email ops@example.test
      	acme_ca https://127.0.0.1:14000/dir
      	acme_ca_root /etc/pebble/root.pem
      	acme_eab {
      		key_id kid-1
      		mac_key bWFj
      	}
      	on_demand_tls {
      		ask http://127.0.0.1:5555/check
      	}
      	key_type p384
      	renewal_window_ratio 0.25
      }
      """).global
    #expect(global.defaultIssuers == [ACMEIssuer(
      directory: "https://127.0.0.1:14000/dir", email: "ops@example.test", trustedRoots: ["/etc/pebble/root.pem"],
      eab: ExternalAccountBinding(keyID: "kid-1", macKey: "bWFj"))])
    #expect(global.onDemandTLS == OnDemandTLS(ask: "http://127.0.0.1:5555/check"))
    #expect(global.keyType == "p384")
    #expect(global.renewalWindowRatio == 0.25)
  }

  @Test func issuerFallbackListAndSiteSettings() throws {
    let config = try adapt("""
      {
      	email ops@example.test
      	cert_issuer acme https://ca-one.test/dir
      	cert_issuer acme {
      		dir https://ca-two.test/dir
      		eab kid2 bWFjMg
      		disable_tlsalpn_challenge
      	}
      }
      a.test {
      	tls other@example.test
      }
      b.test {
      	tls {
      		ca_root /tmp/root.pem
      		on_demand
      	}
      }
      """)
    #expect(config.global.defaultIssuers.map(\.directory) == ["https://ca-one.test/dir", "https://ca-two.test/dir"])
    #expect(config.global.defaultIssuers[1].disableTLSALPNChallenge)
    #expect(config.global.issuers(for: config.sites[0].tls).map(\.email) == ["other@example.test", "other@example.test"])
    let b = config.global.issuers(for: config.sites[1].tls)
    #expect(b == [ACMEIssuer(directory: ACMEIssuer.letsEncrypt, email: "ops@example.test", trustedRoots: ["/tmp/root.pem"])])
    #expect(config.sites[1].tls?.onDemand == true)
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
  }

  @Test func errors() {
    #expect(failure("{\n\tacme_ca http://ca.test/dir\n}") == "Caddyfile:2:10: ACME directory 'http://ca.test/dir' must be an https:// URL")
    #expect(failure("{\n\tkey_type rsa2048\n}") == "Caddyfile:2:11: key_type 'rsa2048' is not supported yet; use p256 or p384")
    #expect(failure("{\n\tcert_issuer zerossl KEY\n}") == "Caddyfile:2:14: issuer 'zerossl' is not supported yet; use acme (with ZeroSSL's directory and eab for ZeroSSL)")
    #expect(failure("{\n\ton_demand_tls {\n\t\task localhost:5555\n\t}\n}") == "Caddyfile:3:7: 'ask' needs an http:// or https:// URL")
    #expect(failure("{\n\ton_demand_tls {\n\t\tinterval 2m\n\t}\n}") == "Caddyfile:3:3: on_demand_tls option 'interval' is not supported yet")
    #expect(failure("{\n\tacme_eab {\n\t\tkey_id x\n\t}\n}") == "Caddyfile:2:2: 'acme_eab' needs both key_id and mac_key")
    #expect(failure("a.test {\n\ttls {\n\t\ton_demand x\n\t}\n}").hasPrefix("Caddyfile:3:13:"))
  }
}

@Suite struct ACMEGateTests {
  /// What the agent does not do yet is refused by validation rather than ignored.
  @Test func refusedByValidation() throws {
    try adapt("{\n\tacme_ca https://ca.test/dir\n}\na.test {\n\trespond x\n}").validate()
    #expect(throws: ConfigError.self) { try adapt("{\n\tkey_type p384\n}").validate() }
    let site = try adapt("a.test {\n\ttls {\n\t\ton_demand\n\t}\n}")
    #expect(throws: ConfigError.self) { try site.validate() }
    // email alone (seed 000) stays valid.
    try adapt("{\n\temail a@b.test\n}\na.test {\n\ttls a@b.test\n}").validate()
  }
}

@Suite struct DNSProviderConfigTests {
  @Test func siteAndGlobal() throws {
    let config = try adapt("""
      {
      	acme_dns exec /usr/local/bin/dns-hook --zone example.test
      }
      *.a.test {
      	tls {
      		dns exec /opt/hook.sh
      		propagation_delay 5s
      	}
      }
      b.test {
      	respond x
      }
      """)
    #expect(config.global.issuers(for: config.sites[0].tls).map(\.dns) == [DNSProvider(command: ["/opt/hook.sh"], propagationDelay: .seconds(5))])
    #expect(config.global.issuers(for: nil).map(\.dns) == [DNSProvider(command: ["/usr/local/bin/dns-hook", "--zone", "example.test"])])
    #expect(try EdgeConfig(json: config.jsonString(pretty: false)) == config)
    try config.validate()
  }

  @Test func errors() {
    #expect(failure("a.test {\n\ttls {\n\t\tdns cloudflare TOKEN\n\t}\n}") == "Caddyfile:3:7: DNS provider 'cloudflare' is not built in; use 'dns exec <program>' with a program that talks to your DNS host")
    #expect(failure("a.test {\n\ttls {\n\t\tdns exec\n\t}\n}") == "Caddyfile:3:7: 'dns exec' needs a program to run")
    #expect(throws: ConfigError.self) { try adapt("a.test {\n\ttls {\n\t\tpropagation_delay 5s\n\t}\n}").validate() }
  }
}
