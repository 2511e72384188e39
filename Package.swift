// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Every target is compiled in the Swift 6 language mode with the same upcoming features.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// RNND_FUZZ=1 (scripts/fuzz) builds rnnd-fuzz as a libFuzzer target instead of a replayer.
let fuzzing = ProcessInfo.processInfo.environment["RNND_FUZZ"] != nil

let package = Package(
    name: "rnnd",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "RNNJSON", targets: ["RNNJSON"]),
        .library(name: "RNNCore", targets: ["RNNCore"]),
        .library(name: "RNNProtocol", targets: ["RNNProtocol"]),
        .library(name: "RNNClient", targets: ["RNNClient"]),
        .executable(name: "rnnd", targets: ["rnnd"]),
        .executable(name: "rnnctl", targets: ["rnnctl"]),
        .executable(name: "rnnbench", targets: ["rnnbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // The hot products and gate kernels, compiled once per instruction set and chosen at
        // run time from cpuid: no flags from the build host, one binary for every x86-64.
        .target(name: "RNNKernels"),
        // The one JSON implementation (no Foundation): exact integers, a strict parser, a
        // writer, and tree coders; everything above it uses this.
        .target(name: "RNNJSON", swiftSettings: strictSettings),
        .target(
            name: "RNNCore",
            dependencies: ["RNNJSON", "RNNKernels"],
            exclude: ["README.md"],
            swiftSettings: strictSettings
        ),
        .target(name: "RNNProtocol", dependencies: ["RNNJSON"], swiftSettings: strictSettings),
        // openat2(2), which glibc does not wrap: client paths are opened beneath their folder.
        .target(name: "CLinux"),
        .target(name: "Corpora", dependencies: ["RNNCore", "RNNJSON"], swiftSettings: strictSettings),
        // The server: sockets, framing, connections, JSON-RPC dispatch through the contract's
        // method table. It knows no models.
        .target(
            name: "RNNServer",
            dependencies: [
                "RNNJSON", "RNNProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // The service: models, workers, jobs, the store and its spool, configuration, in the
        // service's own terms. It knows no sockets and no wire types.
        .target(
            name: "RNNService",
            dependencies: [
                "RNNCore", "RNNJSON", "CLinux", "Corpora",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // The daemon: the contract bound to the service, the server, systemd, and the parts'
        // lifecycle.
        .target(
            name: "RNNDaemon",
            dependencies: [
                "RNNCore", "RNNJSON", "RNNProtocol", "RNNServer", "RNNService", "CSystemd", "CLinux", "Corpora",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        .target(name: "RNNClient", dependencies: ["RNNJSON", "RNNProtocol"], swiftSettings: strictSettings),
        .executableTarget(
            name: "rnnd",
            dependencies: [
                "RNNDaemon", "RNNService", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "rnnctl",
            dependencies: [
                "RNNClient", "RNNJSON", "RNNProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "rnnbench",
            dependencies: [
                "RNNCore", "RNNClient", "RNNJSON", "RNNProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "rnnd-fuzz",
            dependencies: ["RNNDaemon", "RNNService", "RNNJSON", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings + (fuzzing ? [.define("FUZZING")] : [])
        ),
        .target(
            name: "_RNNTestSupport",
            dependencies: ["RNNCore"],
            path: "Tests/_RNNTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "RNNJSONTests", dependencies: ["RNNJSON"], swiftSettings: strictSettings),
        .testTarget(
            name: "RNNServerTests",
            dependencies: [
                "RNNServer", "RNNJSON", "RNNProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CorporaTests",
            dependencies: ["Corpora", "RNNCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RNNDaemonTests",
            dependencies: [
                "RNNDaemon", "RNNService", "RNNJSON", "RNNProtocol", "RNNClient", "RNNServer", "_RNNTestSupport",
            ],
            exclude: ["Helpers/fake_journal.py"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RNNServiceTests",
            dependencies: ["RNNService", "RNNCore", "RNNJSON", "Corpora", "_RNNTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RNNCoreTests",
            dependencies: ["RNNCore", "RNNJSON", "RNNKernels", "_RNNTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
