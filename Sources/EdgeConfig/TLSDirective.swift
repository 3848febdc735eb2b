import EdgeCaddyfile

/// `tls internal | <email> | <cert_file> <key_file> { protocols <min> [<max>] }`.
enum TLSDirective {
  static func parse(_ d: inout Dispenser) throws(ConfigError) -> SiteTLS {
    var tls = SiteTLS()
    let args = d.remainingArgTokens()
    switch args.count {
    case 0: break
    case 1:
      if args[0].text == "internal" {
        tls.certificates = .internal
      } else if args[0].text.contains("@") {
        tls.email = args[0].text
      } else {
        throw ConfigError(
          "'tls \(args[0].text)' is neither 'internal' nor an email; for certificate files write 'tls <cert_file> <key_file>'",
          at: args[0])
      }
    case 2: tls.certificates = .files(certificate: args[0].text, key: args[1].text)
    default:
      throw ConfigError("'tls' takes 'internal', an email, or a certificate file and a key file", at: args[2])
    }
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "protocols":
        let versions = d.remainingArgTokens()
        guard (1...2).contains(versions.count) else {
          throw ConfigError("'protocols' takes a minimum and an optional maximum, e.g. 'protocols tls1.2 tls1.3'", at: d.token)
        }
        for version in versions where !SiteTLS.versions.contains(version.text) {
          let hint = DirectiveCatalog.suggestion(for: version.text, among: SiteTLS.versions)
          throw ConfigError(
            "unsupported TLS version '\(version.text)'\(hint); edge accepts tls1.2 and tls1.3", at: version)
        }
        tls.minVersion = versions[0].text
        tls.maxVersion = versions.count == 2 ? versions[1].text : nil
        if let max = tls.maxVersion, max < versions[0].text {
          throw ConfigError("'protocols \(versions[0].text) \(max)': the minimum is newer than the maximum", at: versions[1])
        }
      case "on_demand":
        try d.noMoreArgs()
        tls.onDemand = true
      case "ca":
        let url = try ACMEOptionsAdapter.directoryURL(try d.singleArg(for: "ca"))
        tls.issuers = try oneIssuer(tls) { $0.directory = url }
      case "ca_root":
        let root = try d.singleArg(for: "ca_root").text
        tls.issuers = try oneIssuer(tls) { $0.trustedRoots = ($0.trustedRoots ?? []) + [root] }
      case "eab":
        let eab = try ACMEOptionsAdapter.eab(&d)
        tls.issuers = try oneIssuer(tls) { $0.eab = eab }
      case "issuer":
        let issuer = try ACMEOptionsAdapter.issuer(&d)
        tls.issuers = (tls.issuers ?? []) + [issuer]
      case "key_type": tls.keyType = try GlobalOptionsAdapter.keyType(&d)
      case "dns":
        let provider = try ACMEOptionsAdapter.dns(&d, nil)
        tls.issuers = try oneIssuer(tls) { $0.dns = DNSProvider(command: provider.command, propagationDelay: $0.dns?.propagationDelay) }
      case "propagation_delay":
        let delay = try d.durationArg()
        tls.issuers = try oneIssuer(tls) { $0.dns = DNSProvider(command: $0.dns?.command ?? [], propagationDelay: delay) }
      case "ciphers":
        tls.ciphers = try names(&d, allowed: SiteTLS.cipherSuites, what: "cipher suite")
      case "curves":
        tls.curves = try names(&d, allowed: SiteTLS.curveNames, what: "curve")
      case "alpn", "load", "propagation_timeout", "dns_ttl", "dns_challenge_override_domain", "resolvers",
        "client_auth", "get_certificate", "insecure_secrets_log", "reuse_private_keys":
        throw .unrecognized("tls option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized(
          "tls option", d.val, caddyOnly: false,
          candidates: [
            "protocols", "ciphers", "curves", "on_demand", "ca", "ca_root", "eab", "issuer", "key_type", "dns",
            "propagation_delay",
          ],
          at: d.token)
      }
    }
    return tls
  }

  /// `ca`, `ca_root` and `eab` shape the site's one issuer (made from the defaults the first time).
  private static func oneIssuer(_ tls: SiteTLS, _ change: (inout ACMEIssuer) -> Void) throws(ConfigError) -> [ACMEIssuer] {
    // An empty directory stands for the global CA (`acme_ca`, else Let's Encrypt): `ca_root` alone adds
    // a root for that one.
    var issuers = tls.issuers ?? [ACMEIssuer(directory: "")]
    change(&issuers[issuers.count - 1])
    return issuers
  }

  /// One or more names from `allowed`, each checked, with a suggestion for a typo.
  private static func names(_ d: inout Dispenser, allowed: [String: String], what: String) throws(ConfigError) -> [String] {
    let option = d.token
    let tokens = d.remainingArgTokens()
    guard !tokens.isEmpty else { throw ConfigError("'\(option.text)' needs at least one \(what)", at: option) }
    for token in tokens where allowed[token.text] == nil {
      let hint = DirectiveCatalog.suggestion(for: token.text, among: allowed.keys)
      throw ConfigError("unknown \(what) '\(token.text)'\(hint)", at: token)
    }
    return tokens.map(\.text)
  }
}
