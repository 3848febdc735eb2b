import EdgeCaddyfile

/// `respond [<matcher>] <status>|<body> [<status>] { body <text>; close }`, as in Caddy: one argument
/// that is a three-digit number is a status, otherwise a body; two arguments are body then status.
enum RespondDirective {
  static func parse(_ d: inout Dispenser) throws(ConfigError) -> Route {
    let location = SourceLocation(d.token)
    let (_, matcher) = try CaddyfileAdapter.matcher(&d)
    var respond = Respond()
    var bodySet = false
    let args = d.remainingArgTokens()
    switch args.count {
    case 0: break
    case 1:
      if args[0].text.count == 3, let status = Int(args[0].text) {
        respond.status = status
      } else {
        respond.body = args[0].text
        bodySet = true
      }
    case 2:
      respond.body = args[0].text
      bodySet = true
      respond.status = try status(args[1])
    default:
      throw ConfigError(
        "'respond' takes a status, a body, or a body and a status; remove '\(args[2].text)' (quote a body "
          + "with spaces)", at: args[2])
    }
    let level = d.nesting
    while d.nextBlock(level) {
      switch d.val {
      case "body":
        if bodySet { throw ConfigError("respond body is given twice; keep one of them", at: d.token) }
        let text = d.remainingArgs()
        guard !text.isEmpty else { throw ConfigError(d.argErr()) }
        respond.body = text.joined(separator: " ")
        bodySet = true
      case "close":
        try d.noMoreArgs()
        respond.close = true
      default:
        let hint = DirectiveCatalog.suggestion(for: d.val, among: ["body", "close"])
        throw ConfigError("unknown respond option '\(d.val)'\(hint)", at: d.token)
      }
    }
    return Route(matcher: matcher, handler: .respond(respond), location: location)
  }

  private static func status(_ token: Token) throws(ConfigError) -> Int {
    guard let status = Int(token.text), (100...999).contains(status) else {
      throw ConfigError("'\(token.text)' is not an HTTP status; write a number from 100 to 999", at: token)
    }
    return status
  }
}
