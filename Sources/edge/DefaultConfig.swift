/// The configuration a node runs when given none and no ./Caddyfile exists: https://localhost:8443 on
/// the node's own local CA (`edge trust` shows its root), and http://localhost:8080 redirecting there.
enum DefaultConfig {
  static let caddyfile = """
    # edge's embedded default configuration.
    {
    \thttp_port 8080
    \thttps_port 8443
    }

    localhost, 127.0.0.1 {
    \trespond "edge is running. Give it a Caddyfile: edge run --config Caddyfile" 200
    }
    """
}
