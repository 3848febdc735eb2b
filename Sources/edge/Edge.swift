import ArgumentParser
import EdgeCaddyfile
import EdgeConfig
import Foundation
import EdgeCore
import EdgeServer
import Glibc
import Logging

@main
struct Edge: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "edge",
    abstract: "A clustered edge proxy: TLS and HTTP termination, reverse proxy, WebSockets.",
    version: EdgeVersion.current,
    subcommands: [
      Run.self, Join.self, ClusterCommand.self, Validate.self, Adapt.self, Format.self, Reload.self, Stop.self, Trust.self, Certs.self, TelemetryCommand.self, HashPassword.self, Version.self,
    ],
    defaultSubcommand: Run.self)
}

enum EdgeVersion {
  static let current = "0.1.0-dev"
}

/// Where a node's configuration comes from: `--config FILE`, else ./Caddyfile, else the embedded default.
struct ConfigOptions: ParsableArguments {
  @Option(name: .shortAndLong, help: "Path to a Caddyfile (or a .json file in edge's JSON form).")
  var config: String?

  func load() throws(ConfigError) -> (EdgeConfig, String) {
    if let config { return (try Self.read(config), config) }
    if access("Caddyfile", R_OK) == 0 { return (try Self.read("Caddyfile"), "Caddyfile") }
    return (try CaddyfileAdapter.adapt(text: DefaultConfig.caddyfile, filename: "<embedded default>"), "<embedded default>")
  }

  static func read(_ path: String) throws(ConfigError) -> EdgeConfig {
    let config = path.hasSuffix(".json") ? try EdgeConfig.load(jsonFile: path) : try CaddyfileAdapter.adapt(contentsOf: path)
    try config.validate()
    return config
  }
}

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Run a node in the foreground until SIGTERM or SIGINT.")
  @OptionGroup var options: ConfigOptions
  @Flag(help: "Start from the configuration last loaded into this node (autosave.json in its storage), if any.")
  var resume = false

  func run() throws {
    var config: EdgeConfig
    var source: String
    do {
      (config, source) = try options.load()
      if resume {
        let saved = NodeCertificates.storageDirectory(config.global) + "/" + Node.autosaveName
        if FileManager.default.fileExists(atPath: saved) {
          config = try EdgeConfig.load(jsonFile: saved)
          try config.validate()
          source = saved
        }
      }
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
    EdgeLogging.bootstrap(level: config.global.logLevel == "warn" ? .warning : Logger.Level(rawValue: config.global.logLevel) ?? .info)
    let logger = Logger(label: "edge")
    logger.info("configuration loaded", metadata: ["source": "\(source)", "version": "\(EdgeVersion.current)"])
    do {
      // SIGHUP reads the same source again (the file, ./Caddyfile or the embedded default).
      let options = self.options
      let node = try Node(config: config, logger: logger) { () throws(ConfigError) -> EdgeConfig in try options.load().0 }
      node.buildVersion = EdgeVersion.current
      throw ExitCode(try node.run())
    } catch let error as ConfigError {
      printError("edge: \(error)")
      throw ExitCode(1)
    } catch let error as ExitCode {
      throw error
    } catch {
      printError("edge: cannot start: \(error)")
      throw ExitCode(1)
    }
  }
}

struct Validate: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Check a configuration without running it.")
  @OptionGroup var options: ConfigOptions

  func run() throws {
    do {
      let (config, source) = try options.load()
      _ = try Node(config: config, logger: Logger(label: "edge"), validateOnly: true)
      print("\(source): valid configuration (\(config.sites.count) site(s))")
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
  }
}

struct Adapt: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Print a Caddyfile as edge's JSON configuration.")
  @OptionGroup var options: ConfigOptions
  @Flag(help: "Indent the JSON.") var pretty = false

  func run() throws {
    do {
      let (config, _) = try options.load()
      print(config.jsonString(pretty: pretty))
    } catch {
      printError("edge: \(error)")
      throw ExitCode(1)
    }
  }
}

struct Format: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fmt", abstract: "Print a Caddyfile formatted tidily (tabs for nesting, one space between tokens).")
  @Argument(help: "The Caddyfile to format.") var file = "Caddyfile"
  @Flag(help: "Rewrite the file in place instead of printing it.") var overwrite = false

  func run() throws {
    guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
      printError("edge: cannot read '\(file)'")
      throw ExitCode(1)
    }
    let formatted = Formatter.format(text)
    if overwrite {
      do {
        try formatted.write(toFile: file, atomically: true, encoding: .utf8)
      } catch {
        printError("edge: cannot write '\(file)': \(error)")
        throw ExitCode(1)
      }
    } else {
      print(formatted, terminator: formatted.hasSuffix("\n") ? "" : "\n")
    }
  }
}

struct Version: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Print the version.")
  func run() { print("edge \(EdgeVersion.current)") }
}

func printError(_ message: String) {
  var bytes = Array((message + "\n").utf8)
  _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
