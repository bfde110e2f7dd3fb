import ArgumentParser
import DeviceStore
import Foundation
import SyncCore
import SyncWire

/// `fieldsim device status [--watch]`: the sync status an app shows, once or live.
extension DeviceCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The sync status: what the sync is doing, what waits to go up, the last push and pull, what the rep must see.",
            discussion: "With --watch, the status is printed again each time it changes, including while another shell runs `fieldsim device sync`, until interrupted (or after --updates statuses).")
        @OptionGroup var common: Common
        @Flag(help: "Print the status again each time it changes.") var watch = false
        @Option(help: "With --watch, stop after this many statuses.") var updates: Int?

        func validate() throws {
            if let updates, updates < 1 { throw ValidationError("--updates must be positive") }
            if updates != nil && !watch { throw ValidationError("--updates goes with --watch") }
        }

        func run() async throws {
            guard watch else {
                return try await DeviceCommand.run(common, { _, _, store in Self.json(try await store.syncStatus()) }, text: Self.text)
            }
            let home = DeviceHome(common.home)
            do {
                _ = try home.load()
                let store = try await home.open()
                var printed = 0
                // Another process's sync writes the file: look for its commits every 100 ms.
                for try await status in store.observe(.syncStatus, otherProcesses: .milliseconds(100)) {
                    let answer = Self.json(status)
                    // Written at once, not buffered: a watcher reads it as it comes.
                    FileHandle.standardOutput.write(Data(((common.json ? answer.compact : Self.text(answer)) + "\n").utf8))
                    printed += 1
                    if let updates, printed >= updates { break }
                }
            } catch {
                let failure = CLIError.from(error)
                FileHandle.standardError.write(Data("fieldsim: \(failure.message)\n".utf8))
                throw ExitCode(failure.kind.rawValue)
            }
        }

        static func json(_ status: DeviceStore.SyncStatus) -> JSONValue {
            func time(_ value: Int64?) -> JSONValue { value.map { .number(String($0)) } ?? .null }
            return JSONValue.fields([
                ("activity", .string(status.activity.rawValue)), ("reachable", status.reachable.map(JSONValue.bool) ?? .null),
                ("pending_change_sets", .number(String(status.pendingChangeSets))), ("pending_attachments", .number(String(status.pendingAttachments))),
                ("last_push_at", time(status.lastPushAt)), ("last_pull_at", time(status.lastPullAt)), ("last_error", .text(status.lastError)),
                ("next_retry_at", time(status.nextRetryAt)),
                ("attention", status.attention.map { outcome in
                    JSONValue.fields([("result", .string(outcome.result)), ("table", .string(outcome.table)), ("record", .string(outcome.record.uuidString)),
                                      ("reason", .text(outcome.reason)), ("findings", .string(outcome.findings))])
                } ?? .null),
            ])
        }

        static func text(_ answer: JSONValue) -> String {
            func number(_ key: String) -> Int64? { if case .number(let text)? = answer[key] { Int64(text) } else { nil } }
            let reachable = answer["reachable"] == .bool(true) ? "online" : answer["reachable"] == .bool(false) ? "offline" : "never synced"
            var line = "\(answer["activity"]?.string ?? "idle"), \(reachable); outbox \(number("pending_change_sets") ?? 0), uploads waiting \(number("pending_attachments") ?? 0)"
            line += "; last push \(Output.time(number("last_push_at"))), last pull \(Output.time(number("last_pull_at")))"
            if let retry = number("next_retry_at") { line += "; retrying at \(Output.time(retry))" }
            if let error = answer["last_error"]?.string { line += "\n  last error: \(error)" }
            if let attention = answer["attention"], attention != .null {
                line += "\n  to see: \(attention["result"]?.string ?? "") \(attention["table"]?.string ?? "") \(attention["record"]?.string ?? "")"
                    + (attention["reason"]?.string.map { ": \($0)" } ?? "") + (attention["findings"]?.string.map { $0.isEmpty ? "" : " (\($0.split(separator: "\n").joined(separator: "; ")))" } ?? "")
            }
            return line
        }
    }
}
