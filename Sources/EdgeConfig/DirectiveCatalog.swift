/// The names the adapter knows: what edge implements, what Caddy has that edge does not do yet (a clear
/// "not supported yet" instead of "unknown"), and suggestions for typos.
enum DirectiveCatalog {
  /// Site directives edge implements, in Caddy's evaluation order (routes are sorted by this).
  static let supported = [
    "abort", "basic_auth", "basicauth", "encode", "error", "file_server", "log", "handle", "handle_errors", "handle_path", "header", "metrics", "redir", "request_body",
    "respond", "reverse_proxy", "rewrite", "root", "route", "tls", "try_files", "uri",
  ]

  /// Caddy site directives edge does not implement yet.
  static let notYetSupported: Set<String> = [
    "acme_server", "bind", "copy_response", "copy_response_headers",
    "forward_auth", "fs",
    "intercept", "invoke", "log_append", "log_name", "log_skip", "skip_log", "map", "method",
    "php_fastcgi", "push", "request_header", "templates", "tracing",
    "vars",
  ]

  /// Global options edge implements.
  static let supportedGlobal = [
    "workers", "http_port", "https_port", "grace_period", "email", "admin", "log", "servers", "storage",
    "local_certs", "auto_https", "default_sni", "acme_ca", "acme_ca_root", "acme_eab", "acme_dns", "cert_issuer", "on_demand_tls",
    "key_type", "renewal_window_ratio", "metrics", "telemetry",
  ]

  /// Caddy global options edge does not implement yet.
  static let notYetSupportedGlobal: Set<String> = [
    "debug", "default_bind", "order", "storage_check", "storage_clean_interval", "renew_interval",
    "ocsp_interval", "shutdown_delay", "fallback_sni",
    "skip_install_trust",
    "ocsp_stapling", "preferred_chains", "pki", "events", "persist_config", "filesystem",
    "cert_lifetime", "dns", "ech",
  ]

  /// The position of a directive in the evaluation order.
  static func rank(of handler: Handler) -> Int {
    switch handler {
    // Caddy's directive order: root, header, request_body, redir, rewrite, uri, try_files, basic_auth,
    // encode, handle, route, abort, error, respond, reverse_proxy, file_server; handle_path sorts with
    // handle (as a handle with a path matcher would).
    case .root: 0
    case .headers: 1
    case .requestBody: 2
    case .redirect: 3
    case .rewrite(let rewrite): rewrite.operation == .to ? 4 : 5
    case .tryFiles: 6
    case .basicAuth: 7
    case .encode: 8
    case .group: 9
    case .route: 10
    case .abort: 11
    case .error: 12
    case .respond: 13
    case .metrics: 14
    case .reverseProxy: 15
    case .fileServer: 16
    }
  }

  /// ` (did you mean 'x'?)` for the closest candidate within edit distance 2, else "".
  static func suggestion(for name: String, among candidates: some Sequence<String>) -> String {
    var best: (name: String, distance: Int)?
    for candidate in candidates.sorted() {
      let distance = editDistance(name, candidate)
      if distance <= 2, distance < (best?.distance ?? .max) { best = (candidate, distance) }
    }
    return best.map { " (did you mean '\($0.name)'?)" } ?? ""
  }

  /// Levenshtein distance: insertions, deletions and substitutions.
  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars)
    let b = Array(b.unicodeScalars)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
        current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }
}
