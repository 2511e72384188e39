// swift-tools-version: 6.0
import PackageDescription

/// Every target is compiled in the Swift 6 language mode with the same upcoming features.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "rnnd",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "RNNCore", targets: ["RNNCore"]),
        .executable(name: "rnnbench", targets: ["rnnbench"]),
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
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "rnnbench",
            dependencies: ["RNNCore"],
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
