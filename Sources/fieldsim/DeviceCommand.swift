import ArgumentParser
import AsyncHTTPClient
import DeviceStore
import FieldModel
import Foundation
import SyncClient
import SyncCore
import SyncWire

/// `fieldsim device …`: one phone, by hand, against a server URL with a token.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "Play one phone: init, visits, visit, fetch, customers, products, check-in, check-out, complete, order, payment, work-order, customer, attachments, attachment, sync, status, offline, online, outbox, conflicts, outcomes.",
        discussion: """
            The phone lives in --home (default $FIELDSIM_HOME, else ~/.fieldsim/device): its SQLite replica and device.json.
            Actions work offline and wait in the outbox; `sync` pushes them and pulls what changed.
            Exit status: 0 done; 2 the phone refused the action; 3 offline or the server unreachable;
            4 the token expired or was refused; 5 the server refused the request; 64 a usage error.
            """,
        subcommands: [Init.self, Visits.self, Visit.self, Fetch.self, Customers.self, Products.self, CheckIn.self, CheckOut.self, Complete.self, AdHoc.self,
                      ShelfCount.self, OutOfStock.self, Answer.self, WeekPlan.self, Order.self, Quote.self, Payment.self, WorkOrder.self,
                      Customer.self, Attachments.self, Attachment.self, Sync.self, Status.self, Offline.self, Online.self, Outbox.self, Conflicts.self, Outcomes.self]
    )

    struct Common: ParsableArguments {
        @Option(help: "The phone's directory.")
        var home: String?
        @Flag(help: "Print JSON instead of text.")
        var json = false
    }

    /// Runs `body` with the phone's store, turning every failure into a clear message and exit status.
    static func run(_ common: Common, _ body: (DeviceHome, DeviceHome.Config, DeviceStore) async throws -> JSONValue, text: (JSONValue) -> String) async throws {
        let home = DeviceHome(common.home)
        do {
            let config = try home.load()
            let store = try await home.open()
            let answer = try await body(home, config, store)
            print(common.json ? answer.printed : text(answer))
        } catch {
            let failure = CLIError.from(error)
            FileHandle.standardError.write(Data("fieldsim: \(failure.message)\n".utf8))
            throw ExitCode(failure.kind.rawValue)
        }
    }

    /// Runs `body` with a sync client (and an HTTP client shut down afterwards).
    static func online<T>(_ home: DeviceHome, _ config: DeviceHome.Config, _ store: DeviceStore, _ body: (SyncClient) async throws -> T) async throws -> T {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let result = try await body(try home.client(config, store: store, http: http))
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// What an action did: the record, its warnings (the device's preview of the server's rules) and the outbox.
    static func report(_ report: ActionReport, _ store: DeviceStore) async throws -> JSONValue {
        JSONValue.fields([("record", .string(report.record.uuidString)),
                       ("warnings", .array(report.warnings.map { JSONValue.fields([("rule", .string($0.rule.name)), ("message", .string($0.message))]) })),
                       ("outbox", .number(String(try await store.outboxCount())))])
    }

    static func reportText(_ verb: String) -> (JSONValue) -> String {
        { answer in
            var lines = ["\(verb) \(answer["record"]?.string ?? "")"]
            if case .array(let warnings)? = answer["warnings"] {
                for warning in warnings { lines.append("  warning: \(warning["rule"]?.string ?? ""): \(warning["message"]?.string ?? "")") }
            }
            if case .number(let pending)? = answer["outbox"] { lines.append("  \(pending) change set(s) waiting in the outbox") }
            return lines.joined(separator: "\n")
        }
    }

    static func id(_ text: String, _ what: String) throws -> RecordID {
        guard let id = RecordID(text) else { throw CLIError(.usage, "\(what) must be a UUID, not \(text)") }
        return id
    }

    // MARK: - Setting up

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set up the phone for a server and a token, register it and prime it.")
        @OptionGroup var common: Common
        @Option(help: "The server's URL, as `fieldsync-server dev` prints it.")
        var server: String
        @Option(help: "The user's bearer token (`fieldsync-server token issue`).")
        var token: String
        @Flag(help: "Only write the configuration; do not contact the server.")
        var offline = false

        func run() async throws {
            let home = DeviceHome(common.home)
            do {
                guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else {
                    throw CLIError(.usage, "--server must be an http or https URL")
                }
                let claims = try DeviceHome.claims(of: token)
                // A new token for the same user keeps the phone and its outbox; another user starts afresh.
                if let existing = try? home.load(), existing.user != claims.user {
                    throw CLIError(.usage, "\(home.directory.path) holds another user's phone: use another --home")
                }
                let config = DeviceHome.Config(server: server, token: token, user: claims.user, role: claims.role, offline: offline)
                try home.save(config)
                let store = try await home.open()
                var report = SyncClient.Report()
                if !offline { report = try await DeviceCommand.online(home, config, store) { try await $0.sync() } }
                let answer = JSONValue.fields([("user", .string(claims.user.uuidString)), ("role", .string(claims.role.name)),
                                            ("rows", .number(String(report.pulledRows))), ("home", .string(home.directory.path))])
                print(common.json ? answer.printed : "phone ready for \(claims.role) \(claims.user.uuidString) in \(home.directory.path); \(report.pulledRows) rows primed")
            } catch {
                let failure = CLIError.from(error)
                FileHandle.standardError.write(Data("fieldsim: \(failure.message)\n".utf8))
                throw ExitCode(failure.kind.rawValue)
            }
        }
    }

    struct Offline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take the phone off the network (actions keep working and wait in the outbox).")
        @OptionGroup var common: Common
        func run() async throws {
            try await DeviceCommand.run(common, { home, config, _ in
                var config = config
                config.offline = true
                try home.save(config)
                return JSONValue.fields([("offline", .bool(true))])
            }, text: { _ in "the phone is offline" })
        }
    }

    struct Online: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put the phone back on the network (then `sync`).")
        @OptionGroup var common: Common
        func run() async throws {
            try await DeviceCommand.run(common, { home, config, _ in
                var config = config
                config.offline = false
                try home.save(config)
                return JSONValue.fields([("offline", .bool(false))])
            }, text: { _ in "the phone is online: run `fieldsim device sync`" })
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Push the outbox and pull until nothing is left.")
        @OptionGroup var common: Common
        func run() async throws {
            try await DeviceCommand.run(common, { home, config, store in
                let report = try await DeviceCommand.online(home, config, store) { try await $0.sync() }
                return JSONValue.fields([("pushed", .number(String(report.pushed))), ("flagged", .number(String(report.flagged))),
                                      ("rejected", .number(String(report.rejected))), ("pulled_change_sets", .number(String(report.pulledChangeSets))),
                                      ("pulled_rows", .number(String(report.pulledRows))), ("removed", .number(String(report.removed))),
                                      ("requests", .number(String(report.requests))), ("bytes", .number(String(report.bytes))),
                                      ("uploaded", .number(String(report.uploaded))), ("already_uploaded", .number(String(report.alreadyUploaded))),
                                      ("uploads_refused", .number(String(report.uploadsRefused))), ("uploads_put_off", .number(String(report.uploadsPutOff))),
                                      ("outbox", .number(String(try await store.outboxCount()))),
                                      ("generation", try await store.generation().map { .string($0.rawValue) } ?? .null),
                                      ("restores_met", .number(String(report.generationsMet))), ("uploaded_again", .number(String(report.requeued))),
                                      ("reprimed", .number(String(report.reprimed.count)))])
            }, text: { answer in
                let n = { (key: String) in answer[key].map { if case .number(let text) = $0 { text } else { "0" } } ?? "0" }
                var line = "pushed \(n("pushed")) change(s): \(n("flagged")) flagged, \(n("rejected")) rejected; pulled \(n("pulled_change_sets")) change set(s) and \(n("pulled_rows")) row(s); \(n("bytes")) bytes; outbox \(n("outbox"))"
                if n("uploaded") != "0" || n("already_uploaded") != "0" { line += "\nuploaded \(n("uploaded")) photo(s) or signature(s); \(n("already_uploaded")) were already on the server" }
                if n("restores_met") != "0" {
                    line = "the server's database was restored (now generation \(answer["generation"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? "?")): "
                        + "uploaded again \(n("uploaded_again")) change set(s) it had answered, and started every bucket over\n" + line
                }
                if n("uploads_refused") != "0" || n("uploads_put_off") != "0" {
                    line += "\n\(n("uploads_refused")) upload(s) refused, \(n("uploads_put_off")) put off: see `fieldsim device attachments`"
                }
                return line
            })
        }
    }

    // MARK: - Reading

    struct Visits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the visits of a day (UTC), in planned order.")
        @OptionGroup var common: Common
        @Option(help: "The day, YYYY-MM-DD (default: today by the phone's clock).")
        var date: String?

        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                let start: Int64
                if let date {
                    guard let day = try? Date(date + "T00:00:00Z", strategy: .iso8601) else { throw CLIError(.usage, "--date is YYYY-MM-DD") }
                    start = Int64(day.timeIntervalSince1970 * 1000)
                } else {
                    start = Int64(Date().timeIntervalSince1970 * 1000) / 86_400_000 * 86_400_000
                }
                let visits = try await store.visits(from: start, to: start + 86_400_000)
                return .array(visits.map { visit in
                    JSONValue.fields([("id", .string(visit.id.uuidString)), ("status", .string(visit.status)), ("visit_type", .string(visit.visitType)),
                                   ("planned_start", JSONValue.integer(visit.plannedStart)), ("planned_end", JSONValue.integer(visit.plannedEnd)),
                                   ("customer_id", .string(visit.customerID.uuidString)), ("customer", .string(visit.customerName)),
                                   ("address", JSONValue.text(visit.streetAddress))])
                })
            }, text: { answer in
                guard case .array(let visits) = answer, !visits.isEmpty else { return "no visits that day" }
                return visits.map { visit in
                    let start = visit["planned_start"].flatMap { if case .number(let text) = $0 { Int64(text) } else { nil } }
                    return "\(visit["id"]?.string ?? "")  \(Output.time(start))  \((visit["status"]?.string ?? "").padding(toLength: 11, withPad: " ", startingAt: 0))  \(visit["customer"]?.string ?? "")"
                }.joined(separator: "\n")
            })
        }
    }

    struct Outbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What waits to be pushed.")
        @OptionGroup var common: Common
        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                .array(try await store.pendingChangeSets(limit: 10_000).map { set in
                    JSONValue.fields([("change_set", .string(set.id.uuid.uuidString)),
                                   ("changes", .array(set.changes.map { JSONValue.fields([("table", .string($0.table)), ("record", .string($0.record.uuidString))]) }))])
                })
            }, text: { answer in
                guard case .array(let sets) = answer, !sets.isEmpty else { return "the outbox is empty" }
                return sets.map { set in
                    guard case .array(let changes)? = set["changes"] else { return "" }
                    return "\(set["change_set"]?.string ?? ""): " + changes.map { "\($0["table"]?.string ?? "") \($0["record"]?.string ?? "")" }.joined(separator: ", ")
                }.joined(separator: "\n")
            })
        }
    }

    struct Outcomes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What the server said of each change: applied, applied_with_exception (flagged) or rejected (quarantined).")
        @OptionGroup var common: Common
        @Option(help: "Only this result: applied, applied_with_exception or rejected.")
        var result: String?
        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                .array(try await store.outcomes(result: result).map { outcome in
                    JSONValue.fields([("change", .string(outcome.change.uuid.uuidString)), ("table", .string(outcome.table)), ("record", .string(outcome.record.uuidString)),
                                   ("result", .string(outcome.result)), ("reason", JSONValue.text(outcome.reason)), ("findings", .string(outcome.findings)),
                                   ("server_state", JSONValue.plain(outcome.serverState))])
                })
            }, text: { answer in
                guard case .array(let outcomes) = answer, !outcomes.isEmpty else { return "no outcomes" }
                return outcomes.map { outcome in
                    var line = "\(outcome["result"]?.string ?? "")  \(outcome["table"]?.string ?? "") \(outcome["record"]?.string ?? "")"
                    if let reason = outcome["reason"]?.string { line += "  reason: \(reason)" }
                    if let findings = outcome["findings"]?.string, !findings.isEmpty { line += "  \(findings)" }
                    return line
                }.joined(separator: "\n")
            })
        }
    }

    struct Conflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Concurrent writes the merge settled on this phone: both values and who won.")
        @OptionGroup var common: Common
        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                .array(try await store.conflicts().map { conflict in
                    JSONValue.fields([("table", .string(conflict.table)), ("record", .string(conflict.record.uuidString)), ("field", .string(conflict.field)),
                                   ("winner", JSONValue.plain(conflict.winner.value)), ("loser", JSONValue.plain(conflict.loser.value))])
                })
            }, text: { answer in
                guard case .array(let conflicts) = answer, !conflicts.isEmpty else { return "no conflicts" }
                return conflicts.map { "\($0["table"]?.string ?? "").\($0["field"]?.string ?? "") of \($0["record"]?.string ?? ""): kept \($0["winner"]?.printed ?? ""), lost \($0["loser"]?.printed ?? "")" }
                    .joined(separator: "\n")
            })
        }
    }
}
