// swift-tools-version:6.0
// libFuzzer harnesses for edge's parsers: a package of its own, so `swift build` and `swift test` of the
// main package never compile them. Built by Tests/fuzz/run.sh (`make fuzz`) with
// `-sanitize=fuzzer,address` and `-enable-testing` (the harnesses reach internal parsers through
// `@testable import`).
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which differs between clones and worktrees.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
let edge = root.lastPathComponent

func harness(_ name: String, _ modules: [String]) -> Target {
  .executableTarget(
    name: name, dependencies: modules.map { .product(name: $0, package: edge) } + ["FuzzSupport"])
}

let package = Package(
  name: "edge-fuzz",
  dependencies: [.package(path: root.path)],
  targets: [
    .target(name: "FuzzSupport"),
    harness("fuzz-request-head", ["EdgeHTTP1"]),
    harness("fuzz-response-head", ["EdgeHTTP1"]),
    harness("fuzz-chunked", ["EdgeHTTP1"]),
    harness("fuzz-caddyfile", ["EdgeCaddyfile"]),
    harness("fuzz-caddyfile-adapter", ["EdgeConfig", "EdgeCaddyfile"]),
    harness("fuzz-acme", ["EdgeACME"]),
    harness("fuzz-cluster-event", ["EdgeCluster"]),
  ],
  swiftLanguageModes: [.v6]
)
