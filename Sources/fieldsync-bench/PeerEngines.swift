import Foundation
import SyncCore
import SyncWire

/// Loro and Yrs on the change mix, through `Benchmarks/peers/run.sh` (Python, from PyPI).
enum PeerEngines: Sendable {
    /// What one engine did with the mix.
    struct Engine: Sendable {
        var version: String
        /// The updates' bytes as the engine exports them.
        var bytes: Int
        /// The same updates deflated as FieldSync deflates its frames (a zlib stream per update, level 6).
        var deflatedBytes: Int
        var importSeconds: Double
    }

    case measured(loro: Engine, yrs: Engine)
    /// Why there are no peer figures.
    case unavailable(String)

    /// Writes the mix as the script's JSON, runs the script and reads its answer.
    static func measure(_ mix: ChangeMix, world: BenchWorld) -> PeerEngines {
        guard let script = locateScript() else { return .unavailable("Benchmarks/peers/run.sh not found (run from the repository)") }
        Bench.log("Loro and Yrs on the mix (installs them from PyPI on first use)")
        let input = world.scratch("peers.json")
        let pushes = JSONValue.array(mix.pushes().map { push in
            .array(push.map { changeSet in
                .array(changeSet.changes.map { change in
                    var fields: [JSONValue.Member] = []
                    if case .write(let writes) = change.operation { fields = writes.map { .init($0.field, .plain($0.value)) } }
                    return .object([.init("t", .string(change.table)), .init("r", .string(change.record.uuidString)), .init("f", .object(fields)),
                                    .init("d", .bool(change.operation == .delete))])
                })
            })
        })
        do {
            try Data(JSONValue.object([.init("pushes", pushes)]).compact.utf8).write(to: URL(fileURLWithPath: input))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [script, input]
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let answer = output.fileHandleForReading.readDataToEndOfFile()
            let complaint = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let last = String(decoding: complaint, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "no message"
                return .unavailable("Benchmarks/peers/run.sh failed (exit \(process.terminationStatus)): \(last)")
            }
            let json = try JSONValue.parse(Array(answer))
            func engine(_ name: String) throws -> Engine {
                guard let object = json[name], let version = object["version"]?.stringValue, case .number(let size)? = object["bytes"], let bytes = Int(size),
                      case .number(let deflated)? = object["deflated_bytes"], let deflatedBytes = Int(deflated),
                      case .number(let seconds)? = object["import_seconds"], let importSeconds = Double(seconds) else {
                    throw BenchError("the peers script's answer lacks \(name)")
                }
                return Engine(version: version, bytes: bytes, deflatedBytes: deflatedBytes, importSeconds: importSeconds)
            }
            return .measured(loro: try engine("loro"), yrs: try engine("yrs"))
        } catch {
            return .unavailable("the peers script could not run: \(error)")
        }
    }

    /// `Benchmarks/peers/run.sh`, looked for from the working directory up.
    static func locateScript() -> String? {
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            let candidate = directory.appendingPathComponent("Benchmarks/peers/run.sh").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }
}
