import EdgeCaddyfile

/// One ACME CA to get certificates from (Caddy's `acme` issuer). Several make a fallback list, tried in
/// order when one fails.
public struct ACMEIssuer: Codable, Sendable, Equatable {
  /// The CA's directory URL.
  public var directory: String
  /// The account contact; nil: the global `email`.
  public var email: String?
  /// PEM file(s) of roots that sign the CA's own HTTPS certificate, besides the system's (`acme_ca_root`,
  /// `trusted_roots`).
  public var trustedRoots: [String]?
  /// External Account Binding (CAs such as ZeroSSL require it).
  public var eab: ExternalAccountBinding?
  public var disableHTTPChallenge: Bool
  public var disableTLSALPNChallenge: Bool
  /// `dns <provider> …`: answer DNS-01 through this provider (then only DNS-01 is used, as in Caddy);
  /// the only challenge a CA offers for a wildcard name.
  public var dns: DNSProvider?

  public init(
    directory: String, email: String? = nil, trustedRoots: [String]? = nil, eab: ExternalAccountBinding? = nil,
    disableHTTPChallenge: Bool = false, disableTLSALPNChallenge: Bool = false
  ) {
    self.directory = directory
    self.email = email
    self.trustedRoots = trustedRoots
    self.eab = eab
    self.disableHTTPChallenge = disableHTTPChallenge
    self.disableTLSALPNChallenge = disableTLSALPNChallenge
  }

  /// Let's Encrypt's production directory: the CA when none is configured, as in Caddy.
  public static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
  public static let letsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"
}

/// Caddyfile: `dns exec <program> [<args>…]` (with `propagation_delay <duration>` beside it): edge runs
/// `<program> <args>… present <record> <value>` to publish a DNS-01 TXT record and `… cleanup <record>
/// <value>` to remove it — the extension point for any DNS host (a script around its API, `nsupdate`
/// for RFC 2136, …). Exit status 0 means done.
public struct DNSProvider: Codable, Sendable, Equatable {
  public var command: [String]
  /// How long to wait after `present` before asking the CA to validate (the record reaching every
  /// authoritative server). Default none.
  public var propagationDelay: Duration?
  public init(command: [String], propagationDelay: Duration? = nil) {
    self.command = command
    self.propagationDelay = propagationDelay
  }
}

/// `eab <key_id> <mac_key>` / `acme_eab { key_id …; mac_key … }`.
public struct ExternalAccountBinding: Codable, Sendable, Equatable {
  public var keyID: String
  /// base64url, as CAs hand it out.
  public var macKey: String
  public init(keyID: String, macKey: String) {
    self.keyID = keyID
    self.macKey = macKey
  }
}

/// `on_demand_tls { ask <url> }`: a name no site lists gets a certificate at its first handshake only if
/// `ask` answers 200 for it (`?domain=<name>`).
public struct OnDemandTLS: Codable, Sendable, Equatable {
  public var ask: String?
  public init(ask: String? = nil) { self.ask = ask }
}

enum ACMEOptionsAdapter {
  /// `acme_eab { key_id <id>; mac_key <key> }`, or the `eab <id> <key>` one-liner of issuers.
  static func eab(_ d: inout Dispenser) throws(ConfigError) -> ExternalAccountBinding {
    let option = d.token
    let args = d.remainingArgTokens()
    if args.count == 2 { return ExternalAccountBinding(keyID: args[0].text, macKey: args[1].text) }
    guard args.isEmpty else { throw ConfigError("'\(option.text)' takes <key_id> <mac_key>, or a block", at: args[0]) }
    var keyID: String?
    var macKey: String?
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "key_id": keyID = try d.singleArg(for: "key_id").text
      case "mac_key": macKey = try d.singleArg(for: "mac_key").text
      default:
        throw .unrecognized("eab option", d.val, caddyOnly: false, candidates: ["key_id", "mac_key"], at: d.token)
      }
    }
    guard let keyID, let macKey else {
      throw ConfigError("'\(option.text)' needs both key_id and mac_key", at: option)
    }
    return ExternalAccountBinding(keyID: keyID, macKey: macKey)
  }

  /// `cert_issuer acme [<dir>] { dir; email; trusted_roots; eab; disable_http_challenge;
  /// disable_tlsalpn_challenge }` (and the same block inside `tls { issuer acme … }`).
  static func issuer(_ d: inout Dispenser) throws(ConfigError) -> ACMEIssuer {
    let kind = try d.singleArgOrBlock()
    guard kind.text == "acme" else {
      if ["zerossl", "internal"].contains(kind.text) {
        throw ConfigError("issuer '\(kind.text)' is not supported yet; use acme (with ZeroSSL's directory and eab for ZeroSSL)", at: kind)
      }
      throw ConfigError("unknown issuer '\(kind.text)'\(DirectiveCatalog.suggestion(for: kind.text, among: ["acme"])); use acme", at: kind)
    }
    // No directory: the global one (`acme_ca`, else Let's Encrypt), as for `tls { ca_root … }`.
    var issuer = ACMEIssuer(directory: "")
    if d.nextArg() { issuer.directory = try directoryURL(d.token) }
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "dir": issuer.directory = try directoryURL(try d.singleArg(for: "dir"))
      case "test_dir":
        throw ConfigError("'test_dir' is not supported yet; list a second issuer instead", at: d.token)
      case "email": issuer.email = try d.singleArg(for: "email").text
      case "trusted_roots": issuer.trustedRoots = (issuer.trustedRoots ?? []) + d.remainingArgs()
      case "eab": issuer.eab = try eab(&d)
      case "disable_http_challenge":
        try d.noMoreArgs()
        issuer.disableHTTPChallenge = true
      case "disable_tlsalpn_challenge":
        try d.noMoreArgs()
        issuer.disableTLSALPNChallenge = true
      case "dns": issuer.dns = try dns(&d, issuer.dns)
      case "propagation_delay":
        var provider = issuer.dns ?? DNSProvider(command: [])
        provider.propagationDelay = try d.durationArg()
        issuer.dns = provider
      case "timeout", "alt_http_port", "alt_tlsalpn_port", "propagation_timeout",
        "resolvers", "preferred_chains", "dns_ttl", "dns_challenge_override_domain", "profile":
        throw .unrecognized("acme issuer option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized(
          "acme issuer option", d.val, caddyOnly: false,
          candidates: ["dir", "email", "trusted_roots", "eab", "disable_http_challenge", "disable_tlsalpn_challenge"],
          at: d.token)
      }
    }
    return issuer
  }

  /// `dns exec <program> [<args>…]`; other providers are Caddy plugins edge does not have.
  static func dns(_ d: inout Dispenser, _ current: DNSProvider?) throws(ConfigError) -> DNSProvider {
    let kind = try d.singleArgOrBlock()
    guard kind.text == "exec" else {
      throw ConfigError(
        "DNS provider '\(kind.text)' is not built in; use 'dns exec <program>' with a program that talks to your DNS host",
        at: kind)
    }
    let command = d.remainingArgs()
    guard !command.isEmpty else { throw ConfigError("'dns exec' needs a program to run", at: kind) }
    return DNSProvider(command: command, propagationDelay: current?.propagationDelay)
  }

  /// An https:// directory URL.
  static func directoryURL(_ token: Token) throws(ConfigError) -> String {
    guard token.text.hasPrefix("https://"), token.text.count > "https://".count else {
      throw ConfigError("ACME directory '\(token.text)' must be an https:// URL", at: token)
    }
    return token.text
  }

  /// `on_demand_tls { ask <url> }` (Caddy's `interval` and `burst` are refused: edge limits issuance itself).
  static func onDemand(_ d: inout Dispenser) throws(ConfigError) -> OnDemandTLS {
    var options = OnDemandTLS()
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "ask":
        let url = try d.singleArg(for: "ask")
        guard url.text.hasPrefix("http://") || url.text.hasPrefix("https://") else {
          throw ConfigError("'ask' needs an http:// or https:// URL", at: url)
        }
        options.ask = url.text
      case "interval", "burst", "permission":
        throw .unrecognized("on_demand_tls option", d.val, caddyOnly: true, candidates: [], at: d.token)
      default:
        throw .unrecognized("on_demand_tls option", d.val, caddyOnly: false, candidates: ["ask"], at: d.token)
      }
    }
    return options
  }
}

extension Dispenser {
  /// The one argument of a line that may also open a block.
  mutating func singleArgOrBlock() throws(ConfigError) -> Token {
    guard nextArg() else { throw ConfigError("'\(val)' needs an argument", at: token) }
    return token
  }
}
