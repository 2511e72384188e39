// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// Every target is compiled in the Swift 6 language mode with the same upcoming features.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The engine is optimized in debug builds too: its SIMD kernels are 50 times slower
/// unoptimized, which made the numeric tests (thousands of forward passes) crawl.
/// On an x86-64 machine with AVX2 and FMA the engine is built for it (8-lane vectors in one
/// register, fused multiply-add): the binary then needs such a CPU, like the one that built
/// it. RNND_PORTABLE=1 builds for the x86-64 baseline instead.
let hostHasAVX2AndFMA: Bool = {
    guard ProcessInfo.processInfo.environment["RNND_PORTABLE"] == nil,
        let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return false }
    let set = Set(flags.split(separator: " ").map(String.init))
    return set.contains("avx2") && set.contains("fma")
}()

/// RNND_FUZZ=1 (scripts/fuzz) builds rnnd-fuzz as a libFuzzer target instead of a replayer.
let fuzzing = ProcessInfo.processInfo.environment["RNND_FUZZ"] != nil

let coreSettings: [SwiftSetting] =
    strictSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
    + (hostHasAVX2AndFMA ? [.unsafeFlags(["-target-cpu", "haswell"]), .define("RNND_FMA")] : [])

let package = Package(
    name: "rnnd",
    platforms: [.macOS(.v14)],
    products: [
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
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .target(
            name: "RNNCore",
            dependencies: ["CBLAS"],
            swiftSettings: coreSettings
        ),
        .target(name: "RNNProtocol", swiftSettings: strictSettings),
        .target(name: "Corpora", dependencies: ["RNNCore"], swiftSettings: strictSettings),
        .target(
            name: "RNNDaemon",
            dependencies: [
                "RNNCore", "RNNProtocol", "CSystemd", "Corpora",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strictSettings
        ),
        .target(name: "RNNClient", dependencies: ["RNNProtocol"], swiftSettings: strictSettings),
        .executableTarget(
            name: "rnnd",
            dependencies: [
                "RNNDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "rnnctl",
            dependencies: [
                "RNNClient", "RNNProtocol", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "rnnbench",
            dependencies: [
                "RNNCore", "RNNClient", "RNNProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "rnnd-fuzz",
            dependencies: ["RNNDaemon", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings + (fuzzing ? [.define("FUZZING")] : [])
        ),
        .target(
            name: "_RNNTestSupport",
            dependencies: ["RNNCore"],
            path: "Tests/_RNNTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CorporaTests",
            dependencies: ["Corpora", "RNNCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RNNDaemonTests",
            dependencies: ["RNNDaemon", "RNNProtocol", "RNNClient"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "RNNCoreTests",
            dependencies: ["RNNCore", "_RNNTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
