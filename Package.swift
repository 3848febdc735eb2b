// swift-tools-version:6.0
import PackageDescription

// The hot-path modules skip the runtime's dynamic exclusivity checks in release builds (callgrind: 5% of
// the instructions per proxied request). Debug builds and tests keep them.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
  name: "edge",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "edge", targets: ["edge"]),
    // The modules the fuzz harnesses in Tests/fuzz (a package of their own, built only by `make fuzz`)
    // depend on. Declaring them adds nothing to what `swift build` compiles.
    .library(name: "EdgeHTTP1", targets: ["EdgeHTTP1"]),
    .library(name: "EdgeCaddyfile", targets: ["EdgeCaddyfile"]),
    .library(name: "EdgeConfig", targets: ["EdgeConfig"]),
    .library(name: "EdgeACME", targets: ["EdgeACME"]),
    .library(name: "EdgeCluster", targets: ["EdgeCluster"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
  ],
  targets: [
    // C libraries, each behind one Swift module that owns it.
    .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
    .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
    .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
    .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
    // Compiled C for what Swift cannot call (macros, static inline): one function each.
    .target(
      name: "CEdgeShims", dependencies: ["CLibUV", "COpenSSL"],
      linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto"), .linkedLibrary("uv")]),

    .target(name: "EdgeCore", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: hotPath),
    .target(name: "EdgeLoop", dependencies: ["EdgeCore", "CLibUV", "CEdgeShims"], swiftSettings: hotPath),
    .target(name: "EdgeHTTP1", swiftSettings: hotPath),
    .target(name: "EdgeCaddyfile"),
    .target(name: "EdgeConfig", dependencies: ["EdgeCaddyfile", "EdgeRegex"]),
    .target(
      name: "EdgeTLS", dependencies: ["EdgeCore", "EdgeLoop", "EdgeMetrics", "COpenSSL", "CEdgeShims"], swiftSettings: hotPath),
    .target(name: "EdgeAuth", dependencies: ["EdgeCore", "CCrypt", "COpenSSL"]),
    .target(name: "EdgeACME", dependencies: ["EdgeCore", "COpenSSL"]),
    .target(name: "EdgeCluster", dependencies: ["EdgeCore", "EdgeLoop", "EdgeRedis", "EdgeStorage", "COpenSSL"]),
    .target(name: "EdgeEncode", dependencies: ["CZlib", "CZstd"], swiftSettings: hotPath),
    .target(name: "EdgeRegex", dependencies: ["CPCRE2"], swiftSettings: hotPath),
    .target(name: "EdgeProxy", dependencies: ["EdgeCore", "EdgeLoop", "EdgeHTTP1", "EdgeRegex", "EdgeTLS"], swiftSettings: hotPath),
    // Prometheus exposition: swift-prometheus' registry, fed through swift-metrics (cold paths) and through
    // cached handles (per request and per handshake).
    .target(
      name: "EdgeMetrics",
      dependencies: [
        "EdgeCore", .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Metrics", package: "swift-metrics"),
      ], swiftSettings: hotPath),
    .target(
      name: "EdgeHTTP", dependencies: ["CEdgeShims", "EdgeCore", "EdgeLoop", "EdgeHTTP1", "EdgeProxy", "EdgeConfig", "EdgeTLS", "EdgeEncode", "EdgeAuth", "EdgeRegex",
        "EdgeMetrics", "CNghttp2",
      ],
      swiftSettings: hotPath),
    .target(name: "EdgeStorage", dependencies: ["EdgeCore"]),
    .target(name: "EdgeRedis", dependencies: ["EdgeCore", "EdgeLoop", "EdgeTLS", "CHiredis"]),
    // Takes a FileStorage lock from a separate process, for EdgeStorageTests' two-process cases.
    .executableTarget(name: "edge-storage-probe", dependencies: ["EdgeStorage"]),
    .target(
      name: "EdgeServer",
      dependencies: [
        "EdgeCore", "EdgeLoop", "EdgeHTTP", "EdgeConfig", "EdgeTLS", "EdgeStorage", "EdgeACME", "EdgeCluster", "EdgeRedis",
        "EdgeMetrics",
      ]),
    .executableTarget(
      name: "edge",
      dependencies: [
        "EdgeServer", "EdgeConfig", "EdgeCore", "EdgeCaddyfile", "EdgeTLS", "EdgeAuth", "EdgeStorage", "EdgeACME",
        "EdgeCluster", "EdgeRedis",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ]),

    .testTarget(name: "EdgeCoreTests", dependencies: ["EdgeCore"]),
    .testTarget(name: "EdgeMetricsTests", dependencies: ["EdgeMetrics"]),
    .testTarget(name: "EdgeAuthTests", dependencies: ["EdgeAuth"]),
    .testTarget(name: "EdgeACMETests", dependencies: ["EdgeACME"]),
    .target(
      name: "RedisTestSupport", dependencies: ["EdgeRedis", "EdgeLoop"], path: "Tests/RedisTestSupport"),
    .testTarget(
      name: "EdgeClusterTests", dependencies: ["EdgeCluster", "EdgeRedis", "EdgeStorage", "EdgeLoop", "RedisTestSupport"]),
    .testTarget(name: "EdgeHTTP1Tests", dependencies: ["EdgeHTTP1"]),
    .testTarget(name: "EdgeHTTPTests", dependencies: ["EdgeHTTP", "EdgeConfig"]),
    .testTarget(name: "EdgeCaddyfileTests", dependencies: ["EdgeCaddyfile"]),
    .testTarget(name: "EdgeTLSTests", dependencies: ["EdgeTLS", "EdgeLoop"]),
    .testTarget(
      name: "EdgeServerTests",
      dependencies: ["EdgeServer", "EdgeConfig", "EdgeTLS", "EdgeStorage", .product(name: "Logging", package: "swift-log")]),
    .testTarget(name: "EdgeConfigTests", dependencies: ["EdgeConfig", "EdgeCaddyfile"]),
    .testTarget(name: "EdgeRegexTests", dependencies: ["EdgeRegex"]),
    .testTarget(name: "EdgeStorageTests", dependencies: ["EdgeStorage", "edge-storage-probe"]),
    .testTarget(name: "EdgeEncodeTests", dependencies: ["EdgeEncode", "CZstd"]),
    .testTarget(name: "EdgeRedisTests", dependencies: ["EdgeRedis", "EdgeLoop", "RedisTestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
