import Foundation
import Testing

/// The module rules of the design (its §2), checked on the manifest as SwiftPM evaluates it
/// (`swift package dump-package`), because no picture of the code can: the device side never
/// links libpq, the server side — `fieldsync-server` included — never links SQLite, the device
/// store, the sync client or the test support, the PostgreSQL driver knows nothing above it, and
/// no executable links the test support.
@Suite("Module rules")
struct ModuleRulesTests {
    /// The package's root folder (this file is `Tests/PackageTests/ModuleRulesTests.swift`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each target's dependencies on other targets of the package, from `swift package dump-package`.
    ///
    /// The dump runs with a scratch path of its own, so that it never waits for the lock of the
    /// `.build` folder that the running `swift test` holds.
    static func targets() throws -> [String: Set<String>] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "--package-path", root.path, "--scratch-path", scratch.path, "dump-package"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "swift package dump-package failed")
        let manifest = try JSONDecoder().decode(Manifest.self, from: data)
        return Dictionary(uniqueKeysWithValues: manifest.targets.map { target in
            (target.name, Set(target.dependencies.compactMap(\.localTarget)))
        })
    }

    /// The part of `dump-package`'s JSON these rules read.
    struct Manifest: Decodable {
        struct Target: Decodable {
            var name: String
            var dependencies: [Dependency]
        }

        /// One dependency: `{"byName": [name, condition]}`, `{"target": [name, condition]}` or
        /// `{"product": [name, package, …]}`; only the first two name a target of this package.
        struct Dependency: Decodable {
            var localTarget: String?

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Key.self)
                for key in [Key.byName, .target] where container.contains(key) {
                    var list = try container.nestedUnkeyedContainer(forKey: key)
                    localTarget = try list.decode(String.self)
                    return
                }
                localTarget = nil
            }

            enum Key: String, CodingKey { case byName, target, product }
        }

        var targets: [Target]
    }

    /// Every target `target` reaches through its dependencies.
    static func reach(_ target: String, in targets: [String: Set<String>]) -> Set<String> {
        var seen = Set<String>()
        var frontier = [target]
        while let next = frontier.popLast() {
            for dependency in targets[next] ?? [] where seen.insert(dependency).inserted { frontier.append(dependency) }
        }
        return seen
    }

    @Test("the server side links no SQLite, device store, client or test support; the device side no libpq")
    func rules() throws {
        let targets = try Self.targets()
        try #require(targets["fieldsync-server"] != nil && targets["DeviceStore"] != nil, "the manifest was not read: \(targets.keys.sorted())")
        for server in ["fieldsync-server", "SyncServer", "SyncEngine", "DemoData"] {
            let reached = Self.reach(server, in: targets).intersection(["CSQLite", "DeviceStore", "SyncClient", "SyncClientHTTP", "SyncTesting", "FleetSimulation"])
            #expect(reached.isEmpty, "\(server) reaches \(reached.sorted())")
        }
        for device in ["SyncCore", "FieldModel", "SyncWire", "DeviceStore", "SyncClient", "SyncClientHTTP"] {
            let reached = Self.reach(device, in: targets).intersection(["CLibPQ", "PostgresDriver", "SyncEngine", "SyncServer", "SyncTesting"])
            #expect(reached.isEmpty, "\(device) reaches \(reached.sorted())")
        }
        // The driver knows no FieldSync table: nothing of the field model, the wire or the engine.
        let driver = Self.reach("PostgresDriver", in: targets).intersection(["FieldModel", "SyncWire", "SyncEngine", "SyncServer"])
        #expect(driver.isEmpty, "PostgresDriver reaches \(driver.sorted())")
        // The engine knows no business rule and no field-sales record: the domain plugs into it,
        // never the other way round.
        let engine = Self.reach("SyncEngine", in: targets).intersection(["FieldModel", "FieldRules", "OfficeStore", "SyncServer"])
        #expect(engine.isEmpty, "the push engine reaches \(engine.sorted())")
        // Test support is for tests: no executable and no other library links it.
        for target in targets.keys where !target.hasSuffix("Tests") && target != "SyncTesting" {
            #expect(!Self.reach(target, in: targets).contains("SyncTesting"), "\(target) reaches SyncTesting")
        }
    }

}
