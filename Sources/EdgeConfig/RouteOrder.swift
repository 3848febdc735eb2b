/// Caddy's ordering of a site's routes: by directive (`request_body`, `respond`, `reverse_proxy`), then,
/// within one directive, routes with a path matcher before those without, more specific paths first
/// (longer, not counting a trailing `*`; for the same path the exact one before the wildcard: `/a` before
/// `/a*`); otherwise the written order is kept (the sort is stable).
enum RouteOrder {
  static func sorted(_ routes: [Route]) -> [Route] {
    routes.enumerated()
      .map { (key: key($0.element), index: $0.offset, route: $0.element) }
      .sorted { a, b in a.key != b.key ? a.key.lexicographicallyPrecedes(b.key) : a.index < b.index }
      .map(\.route)
  }

  /// Smaller sorts first: [directive rank, no path matcher, -(path length without `*`), ends with `*`].
  private static func key(_ route: Route) -> [Int] {
    let rank = DirectiveCatalog.rank(of: route.handler)
    // Named matchers are not sorted by path (as in Caddy): after path matchers, before no matcher.
    if route.matcher?.name != nil { return [rank, 0, 0, 0] }
    guard let path = route.matcher?.paths.max(by: { trimmed($0).count < trimmed($1).count }) else {
      return [rank, 1, 0, 0]
    }
    return [rank, 0, -trimmed(path).count, path.hasSuffix("*") ? 1 : 0]
  }

  private static func trimmed(_ path: String) -> Substring {
    path.hasSuffix("*") ? path.dropLast() : Substring(path)
  }
}
