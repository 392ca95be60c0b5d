// swift-tools-version: 6.2
import PackageDescription

// Layers, top to bottom (see docs/architecture.md):
//   ccm-lua (CLI) -> Bindings (Lua host + Lua modules) -> Core (clusters, engines; no Lua)
//   CLua (system liblua5.4) and CLuaShim (C trampolines) sit under Bindings.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "ccm-lua",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ccm-lua", targets: ["ccm-lua"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // http and tcp for scripts (and later the engines' API over a unix socket): measured
        // against async-http-client and URLSession in docs/architecture.md.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        .target(
            name: "Core",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // A scripted stand-in for Docker/Podman, for unit tests only; never linked into the CLI.
        .target(name: "CoreTesting", dependencies: ["Core"], swiftSettings: strict),
        .target(
            name: "Bindings",
            dependencies: ["Core", "CLua", "CLuaShim"],
            exclude: ["lua"],
            swiftSettings: strict,
            plugins: ["EmbedLua"]
        ),
        .executableTarget(
            name: "ccm-lua",
            dependencies: [
                "Bindings", "Core",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // Compiles the built-in Lua library (Sources/Bindings/lua) into the binary.
        .executableTarget(name: "embed-lua", path: "Plugins/EmbedLuaTool"),
        .plugin(name: "EmbedLua", capability: .buildTool(), dependencies: ["embed-lua"]),

        // Fixtures: real docker/podman output captured on the project machine (capture.sh).
        // bench/exec-roundtrip: exec round trip through Core vs the bare client.
        .executableTarget(name: "exec-roundtrip-bench", dependencies: ["Core"], path: "bench/ExecRoundtrip",
                          swiftSettings: strict),
        // bench/checker: linearizability checker timings, and Jepsen's etcd logs side by side with Porcupine.
        .executableTarget(name: "checker-bench", dependencies: ["Core"], path: "bench/Checker", swiftSettings: strict),

        .testTarget(name: "CoreTests", dependencies: ["Core", "CoreTesting", .product(name: "Yams", package: "Yams")], resources: [.copy("Fixtures")],
                    swiftSettings: strict),
        .testTarget(name: "BindingsTests", dependencies: ["Bindings", "Core", "CoreTesting", "CLua", "CLuaShim"], swiftSettings: strict),
        .testTarget(name: "CLITests", dependencies: ["Core"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["Core", "Bindings"], swiftSettings: strict),
    ]
)
