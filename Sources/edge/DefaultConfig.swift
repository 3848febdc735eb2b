/// The configuration a node runs when given none and no ./Caddyfile exists: a page on
/// http://localhost:8080 that says the node is up. (Local HTTPS arrives with TLS support.)
enum DefaultConfig {
  static let caddyfile = """
    # edge's embedded default configuration.
    {
    	http_port 8080
    }

    http://localhost:8080, http://127.0.0.1:8080 {
    	respond "edge is running. Give it a Caddyfile: edge run --config Caddyfile" 200
    }
    """
}
