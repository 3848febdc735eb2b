/// One site block: the addresses it answers and its routes, in evaluation order.
public struct Site: Codable, Sendable, Equatable {
  public var addresses: [SiteAddress]
  /// Routes tried in order; the first whose matcher matches handles the request. The adapter sorts them
  /// the way Caddy does: by directive order, then by path specificity (longest first), unmatched last.
  public var routes: [Route]
  /// The `tls` directive, if written.
  public var tls: SiteTLS?
  /// `handle_errors` blocks: the routes that answer when a handler fails (`error`, a missing file, an
  /// unreachable upstream), those naming status codes before the catch-all.
  public var errors: [ErrorRoutes]?
  /// `log { … }`: the site's access log; nil: none.
  public var log: SiteLog?
  public var location: SourceLocation?

  public init(
    addresses: [SiteAddress], routes: [Route] = [], tls: SiteTLS? = nil, errors: [ErrorRoutes]? = nil,
    log: SiteLog? = nil, location: SourceLocation? = nil
  ) {
    self.addresses = addresses
    self.routes = routes
    self.tls = tls
    self.errors = errors
    self.log = log
    self.location = location
  }
}

/// Caddyfile: `handle_errors [<codes…>] { … }`: routes run for an error whose status is one of `statuses`
/// (`404`, or a class such as `5xx`), or for any error when there are none. Inside them `{err.status_code}`,
/// `{err.status_text}` and `{err.message}` describe the error, and `respond` and `file_server` answer with
/// the error's status unless told otherwise.
public struct ErrorRoutes: Codable, Sendable, Equatable {
  public var statuses: [String]
  public var routes: [Route]
  public var location: SourceLocation?
  public init(statuses: [String] = [], routes: [Route], location: SourceLocation? = nil) {
    self.statuses = statuses
    self.routes = routes
    self.location = location
  }

  /// The status ranges `statuses` stand for; nil when one is not a status (`404`) or class (`4xx`).
  public static func ranges(_ statuses: [String]) -> [ClosedRange<Int>]? {
    var ranges: [ClosedRange<Int>] = []
    for status in statuses {
      if status.count == 3, status.lowercased().hasSuffix("xx"), let digit = Int(status.prefix(1)), (4...5).contains(digit) {
        ranges.append(digit * 100...digit * 100 + 99)
      } else if let code = Int(status), (400...599).contains(code) {
        ranges.append(code...code)
      } else {
        return nil
      }
    }
    return ranges
  }
}

/// A site address as written: `example.com`, `http://example.com:8080`, `:8080`, `*.example.com`,
/// `https://127.0.0.1`, `localhost:8443/path`.
public struct SiteAddress: Codable, Sendable, Equatable, CustomStringConvertible {
  /// "http", "https" or nil when not written.
  public var scheme: String?
  /// Host name, wildcard (`*.example.com`) or IP literal (IPv6 without brackets). nil: any host.
  public var host: String?
  /// Port when written.
  public var port: Int?
  /// The path part when written (`/api/*`); nil: every path.
  public var path: String?
  /// The text as written.
  public var original: String

  public init(scheme: String? = nil, host: String? = nil, port: Int? = nil, path: String? = nil, original: String) {
    self.scheme = scheme
    self.host = host
    self.port = port
    self.path = path
    self.original = original
  }
  public var description: String { original }
}

/// One handler with the matcher that selects it.
public struct Route: Codable, Sendable, Equatable {
  /// nil: every request of the site.
  public var matcher: RequestMatcher?
  public var handler: Handler
  public var location: SourceLocation?

  public init(matcher: RequestMatcher? = nil, handler: Handler, location: SourceLocation? = nil) {
    self.matcher = matcher
    self.handler = handler
    self.location = location
  }
}

/// What selects a request: an inline path (`reverse_proxy /api/* …`) or a named matcher (`@api { … }`).
/// Every condition that is set must hold; within one, any of its values may match. Empty `paths` means
/// no path condition.
public struct RequestMatcher: Codable, Sendable, Equatable {
  /// Path patterns, any of which matches: exact (`/a`), prefix (`/api/*`), suffix (`*.png`), or `*`.
  public var paths: [String]
  /// The `@name` it was defined as, for messages and ordering (named matchers keep their written order).
  public var name: String?
  /// `host a.test *.b.test`: the request's host (port ignored, case-insensitive; `*.` covers one label).
  public var hosts: [String]?
  /// `method GET HEAD`.
  public var methods: [String]?
  /// `header Name [value…]`: the field is present (no value), or one of its values equals one given; a
  /// value ending in `*` matches by prefix, one starting with `*` by suffix.
  public var headers: [String: [String]]?
  /// `query key=value`: the query has that key with that value (`*` any value).
  public var query: [String: [String]]?
  /// `protocol http|https`.
  public var protocols: [String]?
  /// `client_ip 10.0.0.0/8 ::1`: the client's address is in one of the ranges — the peer's, or the one
  /// a trusted proxy forwarded (`trusted_proxies`).
  public var clientIPs: [String]?
  /// `remote_ip 10.0.0.0/8`: the immediate peer's address (after a PROXY header from a load balancer) is
  /// in one of the ranges, whatever forwarding fields say.
  public var remoteIPs: [String]?
  /// `not { … }` / `not <matcher> …`: none of these match.
  public var not: [RequestMatcher]?
  /// `path_regexp [<name>] <pattern>`: the percent-decoded path matches each pattern.
  public var pathRegexps: [RegexCondition]?
  /// `header_regexp [<name>] <field> <pattern>`: a value of the field matches each pattern.
  public var headerRegexps: [RegexCondition]?

  public init(paths: [String]) { self.paths = paths }

  /// Whether only paths are set (the common case, matched without looking at the rest of the request).
  public var isPathOnly: Bool {
    hosts == nil && methods == nil && headers == nil && query == nil && protocols == nil && clientIPs == nil
      && remoteIPs == nil      && not == nil && pathRegexps == nil && headerRegexps == nil
  }
}

/// A regular-expression condition (PCRE2 syntax, unanchored like Go's). Its groups become placeholders:
/// `{re.<name>.<n>}` and `{re.<name>.<group name>}`.
public struct RegexCondition: Codable, Sendable, Equatable {
  /// The capture name: as written, else the matcher's name without `@`.
  public var name: String
  /// `header_regexp`: the field whose values are matched.
  public var field: String?
  public var pattern: String
  public init(name: String, field: String? = nil, pattern: String) {
    self.name = name
    self.field = field
    self.pattern = pattern
  }
}

/// Terminal handlers (`respond`, `reverse_proxy`) end the route chain; the others (`request_body`) apply
/// to the request and let evaluation go on to the next matching route, as in Caddy.
public enum Handler: Codable, Sendable, Equatable {
  case reverseProxy(ReverseProxy)
  case respond(Respond)
  case requestBody(RequestBody)
  case headers(ResponseHeaders)
  /// `root [<matcher>] <path>`: the directory `file_server` serves (non-terminal).
  case root(String)
  /// `file_server [<matcher>] { … }`.
  case fileServer(FileServerConfig)
  /// `handle` / `handle_path`: a group of routes; the first matching group answers.
  case group(RouteGroup)
  /// `redir [<matcher>] <to> [<code>]`.
  case redirect(Redirect)
  /// `rewrite` / `uri`: changes the request target for the routes after it (and upstream).
  case rewrite(URIRewrite)
  /// `route [<matcher>] { … }`: routes kept in written order; evaluation goes on after it when none of
  /// them answers.
  case route(RouteGroup)
  /// `try_files <files…>`: rewrite to the first of the files that exists under the root.
  case tryFiles([String])
  /// `encode [<matcher>] [zstd|gzip…] { … }`: compress responses the client accepts compressed.
  case encode(EncodeConfig)
  /// `abort [<matcher>]`: close the connection without a response.
  case abort
  /// `error [<matcher>] [<message>] <status>`.
  case error(ErrorResponse)
  /// `basic_auth [<matcher>] [bcrypt [<realm>]] { <user> <hash> … }`: requests without valid
  /// credentials get 401; the others go on.
  case basicAuth(BasicAuth)
  /// `metrics [<matcher>]`: the node's Prometheus metrics (the text the admin endpoint's `/metrics` has).
  case metrics

  public var isTerminal: Bool {
    switch self {
    case .reverseProxy, .respond, .fileServer, .group, .redirect, .abort, .error, .metrics: true
    case .requestBody, .headers, .root, .rewrite, .route, .tryFiles, .encode, .basicAuth: false
    }
  }
}

/// Caddyfile: `rewrite [<matcher>] <to>` (a new target; placeholders allowed; the first matching
/// `rewrite` wins) or `uri [<matcher>] strip_prefix|strip_suffix <part>` / `uri replace <find> <with>`.
public struct URIRewrite: Codable, Sendable, Equatable {
  public enum Operation: String, Codable, Sendable {
    case to, stripPrefix = "strip_prefix", stripSuffix = "strip_suffix", replace
  }
  public var operation: Operation
  public var value: String
  /// `replace`: the replacement.
  public var with: String?
  public init(_ operation: Operation, _ value: String, with: String? = nil) {
    self.operation = operation
    self.value = value
    self.with = with
  }
}

/// Caddyfile: `encode [<matcher>] [zstd|gzip…] { zstd [<level>]; gzip [<level>]; prefer <formats…>;
/// minimum_length <n> }`. `encode` alone is `encode zstd gzip`, as in Caddy.
public struct EncodeConfig: Codable, Sendable, Equatable {
  /// `zstd` and `gzip`, in the server's order of preference: when the client's q-values tie, the first
  /// it accepts is used.
  public var formats: [String]
  /// Bodies shorter than this (when their length is known) are sent as they are. Default 512.
  public var minimumLength: Int
  /// `gzip <level>`: zlib's level, 1 (fastest) to 9 (smallest). nil: 6, zlib's default.
  public var gzipLevel: Int?
  /// `zstd <level>`: Caddy's names, `fastest`, `default`, `better` or `best` (zstd levels 1, 3, 7 and
  /// 11). nil: `default`.
  public var zstdLevel: String?
  public init(formats: [String] = ["zstd", "gzip"], minimumLength: Int = 512, gzipLevel: Int? = nil, zstdLevel: String? = nil) {
    self.formats = formats
    self.minimumLength = minimumLength
    self.gzipLevel = gzipLevel
    self.zstdLevel = zstdLevel
  }

  /// The zstd level a `zstdLevel` name stands for; nil for a name Caddy does not define.
  public static func zstdLevelNumber(_ name: String?) -> Int? {
    switch name {
    case nil, "default": 3
    case "fastest": 1
    case "better": 7
    case "best": 11
    default: nil
    }
  }
}

/// Caddyfile: `basic_auth [<matcher>] [bcrypt [<realm>]] { <username> <hash> … }`. Hashes are bcrypt
/// (`$2a$`/`$2b$`/`$2y$`, as `edge hash-password` or `htpasswd -B` write them; base64 of one is accepted
/// in the Caddyfile and stored decoded).
public struct BasicAuth: Codable, Sendable, Equatable {
  public struct Account: Codable, Sendable, Equatable {
    public var username: String
    public var hash: String
    public init(username: String, hash: String) {
      self.username = username
      self.hash = hash
    }
  }
  public var accounts: [Account]
  /// Sent in `WWW-Authenticate`; default "restricted".
  public var realm: String?
  public init(accounts: [Account], realm: String? = nil) {
    self.accounts = accounts
    self.realm = realm
  }
}

/// Caddyfile: `error [<matcher>] [<message>] <status>`.
public struct ErrorResponse: Codable, Sendable, Equatable {
  public var status: Int
  public var message: String
  public init(status: Int, message: String = "") {
    self.status = status
    self.message = message
  }
}

/// Caddyfile: `file_server [<matcher>] [browse] { root <path>; index <names…>; hide <names…>;
/// precompressed <br|zstd|gzip…>; browse }`.
public struct FileServerConfig: Codable, Sendable, Equatable {
  /// Overrides the site's `root` when set.
  public var root: String?
  public var indexNames: [String]
  public var hide: [String]
  public var precompressed: [String]
  /// `browse`: a directory without an index file is answered with a listing of what it shows (HTML, or
  /// JSON for `Accept: application/json`) instead of 404. Default off; absent from the JSON when off.
  public var browse: Bool
  public init(
    root: String? = nil, indexNames: [String] = ["index.html", "index.txt"], hide: [String] = [], precompressed: [String] = [],
    browse: Bool = false
  ) {
    self.root = root
    self.indexNames = indexNames
    self.hide = hide
    self.precompressed = precompressed
    self.browse = browse
  }
}

/// Caddyfile: `handle [<matcher>] { … }` (no prefix) or `handle_path <path>* { … }` (the matched prefix
/// is removed from the request path for the routes inside, and upstream).
public struct RouteGroup: Codable, Sendable, Equatable {
  public var routes: [Route]
  /// `handle_path`: the prefix removed (the matcher's path without its trailing `*`).
  public var stripPrefix: String?
  public init(routes: [Route], stripPrefix: String? = nil) {
    self.routes = routes
    self.stripPrefix = stripPrefix
  }
}

/// Caddyfile: `redir [<matcher>] <to> [<code>|permanent|temporary]`: `to` may use `{uri}`, `{path}` and
/// `{query}` placeholders. Default 302.
public struct Redirect: Codable, Sendable, Equatable {
  public var to: String
  public var status: Int
  public init(to: String, status: Int = 302) {
    self.to = to
    self.status = status
  }
}

/// Caddyfile: `header [<matcher>] [+|-|?]<field> [<value>]` or a block of such lines: operations on the
/// response's fields, applied to whatever answers the request (edge's own responses and proxied ones,
/// after `header_down`), in the order written.
public struct ResponseHeaders: Codable, Sendable, Equatable {
  public var operations: [HeaderOperation]
  public init(operations: [HeaderOperation]) { self.operations = operations }
}

/// Caddyfile: `request_body [<matcher>] { max_size 10MB }`. A larger body gets 413.
public struct RequestBody: Codable, Sendable, Equatable {
  public var maxSize: Int?
  public init(maxSize: Int? = nil) { self.maxSize = maxSize }
}

/// Caddyfile: `respond [<matcher>] <status>|<body> [<status>] { body <text>; close }`.
public struct Respond: Codable, Sendable, Equatable {
  /// nil: 200, or inside `handle_errors` the error's status.
  public var status: Int?
  public var body: String
  /// `close`: close the client connection after responding.
  public var close: Bool
  public init(status: Int? = nil, body: String = "", close: Bool = false) {
    self.status = status
    self.body = body
    self.close = close
  }
}
