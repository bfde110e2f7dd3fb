import DemoData
import Foundation
import Testing

/// The module rules of the design (its §2), checked from `Package.swift` because no picture of
/// the code can: the device side never links libpq, the server side — `fieldsync-server`
/// included — never links SQLite, the device store, the sync client or the test support, and no
/// production module depends on the test support.
@Suite("Module rules")
struct ModuleRulesTests {
    /// Each target's local dependencies, read from `Package.swift`.
    static func targets() throws -> [String: Set<String>] {
        let text = try String(contentsOf: Fixtures.directory.deletingLastPathComponent().appendingPathComponent("Package.swift"), encoding: .utf8)
        var targets: [String: Set<String>] = [:]
        let declaration = /\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([^"]+)"/
        for match in text.matches(of: declaration) {
            let name = String(match.output.1)
            let rest = text[match.range.upperBound...]
            // The dependency list, if this declaration has one before the next declaration.
            let next = rest.firstMatch(of: declaration)?.range.lowerBound ?? rest.endIndex
            let body = rest[..<next]
            guard let open = body.range(of: "dependencies: [") else { targets[name] = []; continue }
            var depth = 1
            var index = open.upperBound
            while depth > 0, index < body.endIndex {
                if body[index] == "[" { depth += 1 } else if body[index] == "]" { depth -= 1 }
                index = body.index(after: index)
            }
            let list = body[open.upperBound..<index]
            // Local targets are plain strings; products are `.product(name: …)`.
            let withoutProducts = list.replacing(/\.product\([^)]*\)/, with: "")
            targets[name] = Set(withoutProducts.matches(of: /"([^"]+)"/).map { String($0.output.1) })
        }
        return targets
    }

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
        try #require(targets["fieldsync-server"] != nil && targets["DeviceStore"] != nil, "Package.swift was not read: \(targets.keys.sorted())")
        for server in ["fieldsync-server", "SyncServer", "ServerStore"] {
            let reached = Self.reach(server, in: targets).intersection(["CSQLite", "DeviceStore", "SyncClient", "SyncClientHTTP", "SyncTesting"])
            #expect(reached.isEmpty, "\(server) reaches \(reached.sorted())")
        }
        for device in ["SyncCore", "FieldModel", "SyncWire", "DeviceStore", "SyncClient", "SyncClientHTTP"] {
            let reached = Self.reach(device, in: targets).intersection(["CLibPQ", "ServerStore", "SyncServer", "SyncTesting"])
            #expect(reached.isEmpty, "\(device) reaches \(reached.sorted())")
        }
        #expect(!Self.reach("DemoData", in: targets).contains("SyncTesting"))
    }
}
