import ArgumentParser
import EdgeConfig
import Foundation

/// `edge reload`: sends a configuration to a running node's admin endpoint, which swaps it in without
/// dropping anything, or refuses it (the running configuration keeps serving) and says why.
struct Reload: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Load a configuration into a running node through its admin endpoint, with zero downtime.")
  @OptionGroup var options: ConfigOptions
  @Option(help: "The admin endpoint (default: the configuration's `admin`, else localhost:2019).")
  var address: String?
  @Flag(help: "Reload even if the configuration is unchanged (re-reads certificate files).")
  var force = false

  func run() throws {
    let config: EdgeConfig
    do {
      config = try options.load().0
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
    let target = address ?? (config.global.admin.flatMap { $0 == "off" ? nil : $0 } ?? "localhost:2019")
    // The adapted JSON: the node checks it as a whole, and errors still name file:line:column.
    try AdminClient.post(
      to: target, path: "/load", contentType: "application/json", body: Array(config.jsonString(pretty: false).utf8),
      extraFields: force ? ["Cache-Control: must-revalidate"] : [], refused: "the node refused the configuration", done: "configuration loaded")
  }
}

/// `edge stop`: asks a running node to shut down gracefully (as SIGTERM does).
struct Stop: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Stop a running node gracefully through its admin endpoint.")
  @Option(help: "The admin endpoint.") var address = "localhost:2019"

  func run() throws {
    try AdminClient.post(to: address, path: "/stop", refused: "the node did not stop", done: "stopping")
  }
}
