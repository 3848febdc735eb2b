import EdgeMetrics

extension HTTPConnection {
  /// The `handler` label of the route that answers.
  static func meteredHandler(_ handler: CompiledHandler?) -> MeteredHandler {
    switch handler {
    case .proxy: .reverseProxy
    case .fileServer: .fileServer
    case .respond: .staticResponse
    case .redirect, .redirectToHTTPS: .redirect
    case .error: .error
    case .metrics: .metrics
    case .abort, .requestBody, .headers, .root, .group, .route, .rewrite, .tryFiles, .encode, .basicAuth, nil: .other
    }
  }
}
