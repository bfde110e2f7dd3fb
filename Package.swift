// swift-tools-version: 6.2
// FieldSync: an offline-first sync backend for field sales and field service.
// The module map is DESIGN.md §2; README.md explains each target in one line.

import PackageDescription

/// Settings every FieldSync target shares: Swift 6 mode, the upcoming features the house
/// style asks for, and warnings as errors so that `main` never carries one.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

/// Every library target's settings: `strict`, and optimized even in a debug build. `swift test`
/// builds debug, and the suite's swarms, fuzzers and server worlds spend most of their time in
/// these modules; unoptimized, a swarm seed took 2.6 times the CPU (README, "How the tests
/// run"). The test targets, the executables' own code and the dependencies stay as SwiftPM
/// builds them.
let library: [SwiftSetting] = strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "FieldSync",
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "SyncCore", targets: ["SyncCore"]),
        .library(name: "FieldModel", targets: ["FieldModel"]),
        .library(name: "SyncWire", targets: ["SyncWire"]),
        .library(name: "DeviceStore", targets: ["DeviceStore"]),
        .library(name: "SyncClient", targets: ["SyncClient"]),
        .library(name: "SyncClientHTTP", targets: ["SyncClientHTTP"]),
        .library(name: "PostgresDriver", targets: ["PostgresDriver"]),
        .library(name: "SyncEngine", targets: ["SyncEngine"]),
        .library(name: "FieldRules", targets: ["FieldRules"]),
        .library(name: "OfficeStore", targets: ["OfficeStore"]),
        .library(name: "SyncServer", targets: ["SyncServer"]),
        .library(name: "DemoData", targets: ["DemoData"]),
        .library(name: "ProtocolDocuments", targets: ["ProtocolDocuments"]),
        .library(name: "FleetSimulation", targets: ["FleetSimulation"]),
        .library(name: "SyncTesting", targets: ["SyncTesting"]),
        .executable(name: "fieldsync-server", targets: ["fieldsync-server"]),
        .executable(name: "fieldsim", targets: ["fieldsim"]),
        .executable(name: "fieldsync-bench", targets: ["fieldsync-bench"]),
        .executable(name: "rep-day", targets: ["rep-day"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        // C libraries, reached through pkg-config. Each folder holds module.modulemap + shim.h.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Shared, pure: what a phone app embeds.
        .target(name: "SyncCore", swiftSettings: library),
        .target(name: "FieldModel", dependencies: ["SyncCore"], swiftSettings: library),
        .target(name: "SyncWire", dependencies: ["SyncCore", "CZlib"], swiftSettings: library),

        // Device side: never links libpq.
        .target(
            name: "DeviceStore",
            dependencies: ["FieldModel", "SyncWire", "CSQLite", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: library
        ),
        .target(name: "SyncClient", dependencies: ["DeviceStore", "SyncWire", "FieldModel"], swiftSettings: library),
        // The HTTP transport, apart so that an app may bring its own (URLSession on Apple platforms).
        .target(
            name: "SyncClientHTTP",
            dependencies: ["SyncClient", "SyncWire", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: library
        ),

        // Server side: never links SQLite.
        // The PostgreSQL driver: connection, pool, COPY, listener, a private cluster. Knows no
        // FieldSync table; SyncCore only for the dedicated executor of blocking C calls.
        .target(
            name: "PostgresDriver",
            dependencies: ["SyncCore", "CLibPQ", .product(name: "Logging", package: "swift-log")],
            swiftSettings: library
        ),
        .target(
            name: "SyncEngine",
            dependencies: ["PostgresDriver", "SyncCore", "SyncWire", .product(name: "Logging", package: "swift-log")],
            swiftSettings: library
        ),
        // The field-sales and field-service rules on arrival, plugged into the engine.
        .target(name: "FieldRules", dependencies: ["SyncEngine", "PostgresDriver", "FieldModel", "SyncCore"], swiftSettings: library),
        // The office's operations on the store: plans, assignments, approvals, reviews, the
        // board, missed visits, blobs. Every write goes through the push engine.
        .target(
            name: "OfficeStore",
            dependencies: ["SyncEngine", "PostgresDriver", "FieldModel", "SyncWire", "SyncCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: library
        ),
        .target(
            name: "SyncServer",
            dependencies: [
                "SyncEngine", "FieldRules", "OfficeStore", "SyncWire", "FieldModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                // The company's identity provider's keys (a JWKS on the web).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The office's web console: static files, no build step.
            resources: [.copy("Console")],
            swiftSettings: library
        ),

        // The seeded demo data set, its file format and its loaders: shared by the server's `dev`,
        // fieldsim and the tests (the server must not link test support).
        .target(
            name: "DemoData",
            dependencies: ["SyncCore", "FieldModel", "SyncWire", "SyncEngine", "FieldRules"],
            swiftSettings: library
        ),
        // The machine-readable parts of SyncProtocol/ (the schema document, the golden messages),
        // written from the code so that the spec cannot drift from it.
        .target(name: "ProtocolDocuments", dependencies: ["DemoData", "SyncCore", "FieldModel", "SyncWire"], swiftSettings: library),
        // The fleet simulation: phones and a server in one process or over loopback HTTP, under
        // faults, for `fieldsim swarm`, the demo, the bench and the tests.
        .target(
            name: "FleetSimulation",
            dependencies: [
                "DemoData", "SyncCore", "FieldModel", "SyncWire", "SyncEngine", "FieldRules", "OfficeStore", "SyncServer", "DeviceStore", "SyncClient", "SyncClientHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: library
        ),
        // Test helpers only: a private PostgreSQL per test process, the server as a child
        // process, hostile traffic. No executable links it.
        .target(
            name: "SyncTesting",
            dependencies: ["SyncCore", "PostgresDriver", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: library
        ),

        // Executables.
        .executableTarget(
            name: "fieldsync-server",
            dependencies: [
                "SyncServer", "SyncEngine", "DemoData", "FieldModel", "FieldRules", "OfficeStore", "SyncCore", "PostgresDriver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fieldsim",
            dependencies: [
                "DemoData",
                "FleetSimulation", "ProtocolDocuments", "DeviceStore", "FieldModel", "SyncWire", "SyncCore", "SyncClient", "SyncClientHTTP", "SyncServer", "SyncEngine", "OfficeStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fieldsync-bench",
            dependencies: [
                "DemoData",
                "FleetSimulation", "DeviceStore", "FieldModel", "SyncWire", "SyncCore", "SyncClient", "SyncClientHTTP", "SyncServer", "SyncEngine", "FieldRules", "OfficeStore",
                "CSQLite", "CLibPQ", "CZlib",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // The SQLite-layer figures' peer (issue 22: DeviceStore's wrapper or GRDB, decided by measurement).
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),

        // An example app on the device SDK: a rep's day screen from typed reads and live queries.
        .executableTarget(
            name: "rep-day",
            dependencies: [
                "DeviceStore", "SyncClient", "SyncClientHTTP", "SyncCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // Tests mirror Sources/.
        .testTarget(
            name: "SyncCoreTests",
            dependencies: ["SyncCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: strict
        ),
        .testTarget(name: "FieldModelTests", dependencies: ["FieldModel", "SyncCore", .product(name: "PropertyBased", package: "swift-property-based")],
                    swiftSettings: strict),
        .testTarget(name: "SyncWireTests", dependencies: ["SyncWire", "ProtocolDocuments", "DemoData"], swiftSettings: strict),
        .testTarget(name: "DeviceStoreTests", dependencies: ["DeviceStore", "FleetSimulation", "DemoData"], swiftSettings: strict),
        .testTarget(name: "PostgresDriverTests", dependencies: ["PostgresDriver", "SyncTesting", "SyncCore"], swiftSettings: strict),
        .testTarget(name: "SyncEngineTests", dependencies: ["SyncEngine", "FieldRules", "OfficeStore", "SyncTesting", "DemoData", "FieldModel", "SyncWire"], swiftSettings: strict),
        .testTarget(
            name: "SyncServerTests",
            dependencies: [
                "SyncServer", "SyncEngine", "FieldRules", "OfficeStore", "SyncTesting", "FleetSimulation", "DemoData", "DeviceStore", "FieldModel", "SyncWire", "SyncClient", "SyncClientHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Hostile-client tests forge tokens with the real secret.
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "DemoDataTests", dependencies: ["DemoData", "SyncCore"], swiftSettings: strict),
        .testTarget(name: "ProtocolDocumentsTests", dependencies: ["ProtocolDocuments", "DemoData", "SyncWire"], swiftSettings: strict),
        .testTarget(name: "FleetSimulationTests", dependencies: ["FleetSimulation"], swiftSettings: strict),
        // The module rules of DESIGN.md §2, read from the manifest as SwiftPM evaluates it.
        .testTarget(name: "PackageTests", swiftSettings: strict),
        .testTarget(
            name: "SyncClientTests",
            dependencies: ["SyncClient", "SyncTesting", "FleetSimulation", "DemoData", "DeviceStore", "SyncServer", "SyncEngine", "FieldRules", "OfficeStore", "FieldModel", "SyncWire", "SyncCore"],
            swiftSettings: strict
        ),
        .testTarget(name: "FieldSimTests", dependencies: ["SyncTesting", "DemoData", "SyncWire", "SyncCore", "PostgresDriver",
                                                         .product(name: "AsyncHTTPClient", package: "async-http-client")], swiftSettings: strict),
        .testTarget(name: "RepDayTests", dependencies: ["SyncTesting", "DemoData", "SyncCore"], swiftSettings: strict),
        .testTarget(name: "FieldSyncBenchTests", dependencies: ["SyncTesting", "DemoData", "SyncWire"], swiftSettings: strict),
    ]
)
