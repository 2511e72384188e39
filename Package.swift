// swift-tools-version: 6.0
import PackageDescription

/// Every target is compiled in the Swift 6 language mode with the same upcoming features.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The engine is optimized in debug builds too: its SIMD kernels are 50 times slower
/// unoptimized, which made the numeric tests (thousands of forward passes) crawl.
let coreSettings: [SwiftSetting] = strictSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "rnnd",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "RNNCore", targets: ["RNNCore"]),
        .executable(name: "rnnbench", targets: ["rnnbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
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
        .executableTarget(
            name: "rnnbench",
            dependencies: ["RNNCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "_RNNTestSupport",
            dependencies: ["RNNCore"],
            path: "Tests/_RNNTestSupport",
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
