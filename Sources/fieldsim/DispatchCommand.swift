import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SyncWire

/// `fieldsim dispatch …`: the dispatcher and the manager, through the office API (`SyncProtocol/office.md`).
struct DispatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Play the dispatcher and the manager: plan, visit, assign, reschedule, cancel, work-order, technician, work-type, auto-dispatch, maintenance-plan, board, conflicts, exceptions, resolve, approve, reject, release, team.",
        discussion: """
            --server and --token default to $FIELDSIM_SERVER and $FIELDSIM_TOKEN. Times are ISO 8601 (2026-11-30T14:00:00Z).
            Exit status: 0 done; 3 the server unreachable; 4 the token expired, was refused, or may not do this (forbidden);
            5 the server refused the request (the message says why: invalid, not_found, invalid_state, rejected); 64 a usage error.
            """,
        subcommands: [Plan.self, Visit.self, Assign.self, Reschedule.self, Cancel.self, WorkOrder.self, Technician.self, WorkType.self, AutoDispatch.self, MaintenancePlan.self, WeekPlan.self, VisitSchedule.self, Devices.self, Board.self, Conflicts.self, Exceptions.self,
                      Resolve.self, Approve.self, Reject.self, Release.self, Team.self]
    )

    struct Common: ParsableArguments {
        @Option(help: "The server's URL.") var server: String?
        @Option(help: "A dispatcher's or manager's bearer token.") var token: String?
        @Flag(help: "Print the server's JSON.") var json = false
    }

    /// Sends one request and prints the answer; a refusal prints the server's message and exits non-zero.
    static func call(_ common: Common, _ method: HTTPMethod, _ path: String, _ body: [(String, JSONValue)]? = nil,
                     text: (JSONValue) -> String = { _ in "done" }) async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let server = common.server ?? environment["FIELDSIM_SERVER"], let token = common.token ?? environment["FIELDSIM_TOKEN"] else {
            FileHandle.standardError.write(Data("fieldsim: pass --server and --token (or set FIELDSIM_SERVER and FIELDSIM_TOKEN)\n".utf8))
            throw ExitCode(CLIError.Kind.usage.rawValue)
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        var request = HTTPClientRequest(url: (server.hasSuffix("/") ? String(server.dropLast()) : server) + path)
        request.method = method
        request.headers.add(name: "authorization", value: "Bearer \(token)")
        request.headers.add(name: "content-type", value: "application/json")
        if let body { request.body = .bytes(ByteBuffer(string: JSONValue.fields(body).printed)) }
        let status: UInt
        let answer: JSONValue
        do {
            let response = try await http.execute(request, timeout: .seconds(60))
            status = response.status.code
            let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
            answer = (try? JSONValue.parse(Array(bytes.readableBytesView))) ?? .null
        } catch {
            FileHandle.standardError.write(Data("fieldsim: the server at \(server) is unreachable: \(error)\n".utf8))
            throw ExitCode(CLIError.Kind.offline.rawValue)
        }
        guard status == 200 else {
            let code = answer["error"]?.string ?? "HTTP \(status)"
            FileHandle.standardError.write(Data("fieldsim: \(code): \(answer["message"]?.string ?? "the server refused the request")\n".utf8))
            throw ExitCode(status == 401 || status == 403 ? CLIError.Kind.auth.rawValue : CLIError.Kind.server.rawValue)
        }
        print(common.json ? answer.printed : text(answer))
    }

    static func optional(_ key: String, _ value: String?) -> [(String, JSONValue)] { value.map { [(key, .string($0))] } ?? [] }
    static func created(_ what: String) -> (JSONValue) -> String { { "created \(what) \($0["id"]?.string ?? "")" } }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a visit plan for a rep.")
        @OptionGroup var common: Common
        @Option(help: "The rep's id.") var rep: String
        @Option(help: "The plan's name.") var name: String
        @Option(help: "The period's start.") var from: String
        @Option(help: "The period's end.") var to: String
        func run() async throws {
            try await DispatchCommand.call(common, .POST, "/v1/office/visit-plans",
                                           [("rep_id", .string(rep)), ("name", .string(name)), ("period_start", .string(from)), ("period_end", .string(to))],
                                           text: DispatchCommand.created("plan"))
        }
    }

    struct Visit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Plan a visit.")
        @OptionGroup var common: Common
        @Option(help: "The customer's id.") var customer: String
        @Option(help: "The rep's id.") var assignee: String
        @Option(help: "The planned start.") var start: String
        @Option(help: "The planned end.") var end: String
        @Option(help: "The visit type.") var type = "sales"
        @Option(help: "The plan's id.") var plan: String?
        @Option(help: "Instructions for the rep.") var instructions: String?
        @Option(help: "A required task's type (repeatable).") var task: [String] = []
        @Option(help: "A required typed task, TYPE:KIND:QUESTION or TYPE:number:QUESTION:MIN:MAX (KIND: yes_no, number, text, photo; repeatable).")
        var question: [String] = []
        func run() async throws {
            var body: [(String, JSONValue)] = [("customer_id", .string(customer)), ("assignee_id", .string(assignee)), ("planned_start", .string(start)),
                                               ("planned_end", .string(end)), ("visit_type", .string(type))]
            body += DispatchCommand.optional("plan_id", plan) + DispatchCommand.optional("instructions", instructions)
            var tasks = task.map { JSONValue.fields([("task_type", .string($0)), ("required", .bool(true))]) }
            for typed in question {
                let parts = typed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 3 || parts.count == 5 else { throw ValidationError("--question is TYPE:KIND:QUESTION or TYPE:number:QUESTION:MIN:MAX") }
                var fields: [(String, JSONValue)] = [("task_type", .string(parts[0])), ("required", .bool(true)), ("answer_kind", .string(parts[1])), ("label", .string(parts[2]))]
                if parts.count == 5 { fields += [("min_value", .number(parts[3])), ("max_value", .number(parts[4]))] }
                tasks.append(.fields(fields))
            }
            if !tasks.isEmpty { body.append(("tasks", .array(tasks))) }
            try await DispatchCommand.call(common, .POST, "/v1/office/visits", body, text: DispatchCommand.created("visit"))
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign or reassign a visit.", aliases: ["reassign"])
        @OptionGroup var common: Common
        @Argument(help: "The visit's id.") var visit: String
        @Option(help: "The rep's id.") var to: String
        func run() async throws {
            try await DispatchCommand.call(common, .POST, "/v1/office/visits/\(visit)/assign", [("assignee_id", .string(to))], text: { _ in "assigned" })
        }
    }

    struct Reschedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a visit's window.")
        @OptionGroup var common: Common
        @Argument(help: "The visit's id.") var visit: String
        @Option(help: "The new start.") var start: String
        @Option(help: "The new end.") var end: String
        func run() async throws {
            try await DispatchCommand.call(common, .POST, "/v1/office/visits/\(visit)/reschedule", [("planned_start", .string(start)), ("planned_end", .string(end))],
                                           text: { _ in "rescheduled" })
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a planned visit.")
        @OptionGroup var common: Common
        @Argument(help: "The visit's id.") var visit: String
        func run() async throws {
            try await DispatchCommand.call(common, .POST, "/v1/office/visits/\(visit)/cancel", [], text: { _ in "cancelled" })
        }
    }

    struct WorkOrder: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "work-order", abstract: "Work orders: create, assign, schedule, hold, cancel, close.",
                                                        subcommands: [Create.self, AssignTechnician.self, Schedule.self, Move.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a work order.")
            @OptionGroup var common: Common
            @Option(help: "The customer's id.") var customer: String
            @Option(help: "installation, repair, maintenance or inspection.") var type: String
            @Option(help: "The asset's id.") var asset: String?
            @Option(help: "low, normal, high, urgent.") var priority = "normal"
            @Option(help: "What to do.") var description: String?
            @Option(help: "The window's start.") var start: String?
            @Option(help: "The window's end.") var end: String?
            @Option(help: "The technician's id.") var assignee: String?
            func run() async throws {
                var body: [(String, JSONValue)] = [("customer_id", .string(customer)), ("work_type", .string(type)), ("priority", .string(priority))]
                body += DispatchCommand.optional("asset_id", asset) + DispatchCommand.optional("description", description)
                body += DispatchCommand.optional("window_start", start) + DispatchCommand.optional("window_end", end) + DispatchCommand.optional("assignee_id", assignee)
                try await DispatchCommand.call(common, .POST, "/v1/office/work-orders", body, text: DispatchCommand.created("work order"))
            }
        }

        struct AssignTechnician: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "assign", abstract: "Assign a technician.")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Option(help: "The technician's id.") var to: String
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/work-orders/\(workOrder)/assign", [("assignee_id", .string(to))], text: { _ in "assigned" })
            }
        }

        struct Schedule: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set the window.")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Option(help: "The window's start.") var start: String
            @Option(help: "The window's end.") var end: String
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/work-orders/\(workOrder)/schedule", [("window_start", .string(start)), ("window_end", .string(end))],
                                               text: { _ in "scheduled" })
            }
        }

        struct Move: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "move", abstract: "hold, cancel or close a work order.")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Argument(help: "hold, cancel or close.") var action: String
            func validate() throws {
                guard ["hold", "cancel", "close"].contains(action) else { throw ValidationError("the action is hold, cancel or close") }
            }
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/work-orders/\(workOrder)/\(action)", [], text: { _ in "done" })
            }
        }
    }

    struct Board: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A day's visits per rep, with status and lateness.")
        @OptionGroup var common: Common
        @Option(help: "The day, YYYY-MM-DD (UTC).") var day: String
        @Option(help: "Only this rep.") var user: String?
        func run() async throws {
            try await DispatchCommand.call(common, .GET, "/v1/office/board?day=\(day)" + (user.map { "&user=\($0)" } ?? ""), text: { answer in
                guard case .array(let rows) = answer, !rows.isEmpty else { return "no visits that day" }
                return rows.map { row in
                    var counts = ""
                    if case .object(let members)? = row["counts"] {
                        counts = members.map { member in "\(member.key) \(member.value.printed)" }.joined(separator: ", ")
                    }
                    var lines = ["\(row["name"]?.string ?? "") (\(row["user"]?.string ?? "")): \(counts)"]
                    if case .array(let visits)? = row["visits"] {
                        for visit in visits {
                            let late = visit["late_minutes"].map { if case .number(let n) = $0, n != "0" { " late \(n) min" } else { "" } } ?? ""
                            lines.append("  \(visit["planned_start"]?.string ?? "-")  \((visit["status"]?.string ?? "").padding(toLength: 11, withPad: " ", startingAt: 0))  \(visit["customer_name"]?.string ?? "")\(late)  \(visit["visit"]?.string ?? "")")
                        }
                    }
                    return lines.joined(separator: "\n")
                }.joined(separator: "\n")
            })
        }
    }

    static func reviewText(_ kind: @escaping (String) -> Bool) -> (JSONValue) -> String {
        { answer in
            guard case .array(let items)? = answer["reviews"] else { return "" }
            let chosen = items.filter { kind($0["kind"]?.string ?? "") }
            guard !chosen.isEmpty else { return "nothing to review" }
            return chosen.map { "\($0["id"]?.string ?? "")  \($0["kind"]?.string ?? "")  \($0["table"]?.string ?? "") \($0["record"]?.string ?? "")  \($0["rule"]?.string ?? ""): \($0["message"]?.string ?? "")" }
                .joined(separator: "\n")
        }
    }

    struct Conflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open conflicts: concurrent writes the merge settled.")
        @OptionGroup var common: Common
        @Flag(help: "Resolved ones too.") var all = false
        func run() async throws {
            try await DispatchCommand.call(common, .GET, "/v1/office/reviews?kind=conflict&limit=500" + (all ? "&state=all" : ""), text: DispatchCommand.reviewText { $0 == "conflict" })
        }
    }

    struct Exceptions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open exceptions (flagged changes) and rejections (quarantined changes).")
        @OptionGroup var common: Common
        @Flag(help: "Resolved ones too.") var all = false
        func run() async throws {
            try await DispatchCommand.call(common, .GET, "/v1/office/reviews?limit=500" + (all ? "&state=all" : ""), text: DispatchCommand.reviewText { $0 != "conflict" })
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept or override a review item (decision:N or conflict:N).")
        @OptionGroup var common: Common
        @Argument(help: "The item's id.") var item: String
        @Flag(help: "Let the author's side win (a comment is required).") var override = false
        @Option(help: "Why.") var comment: String?
        func run() async throws {
            try await DispatchCommand.call(common, .POST, "/v1/office/reviews/\(item)/resolve",
                                           [("action", .string(override ? "override" : "accept"))] + DispatchCommand.optional("comment", comment),
                                           text: { _ in override ? "overridden" : "accepted" })
        }
    }

    /// A manager's decision on an order: the same request with another verb.
    protocol OrderDecision: AsyncParsableCommand {
        static var action: String { get }
        static var done: String { get }
        var common: Common { get }
        var order: String { get }
        var comment: String? { get }
    }

    struct Approve: OrderDecision {
        static let configuration = CommandConfiguration(abstract: "A manager approves an order pending approval.")
        static let action = "approve", done = "approved"
        @OptionGroup var common: Common
        @Argument(help: "The order's id.") var order: String
        @Option(help: "Why.") var comment: String?
    }

    struct Reject: OrderDecision {
        static let configuration = CommandConfiguration(abstract: "A manager rejects an order pending approval.")
        static let action = "reject", done = "rejected"
        @OptionGroup var common: Common
        @Argument(help: "The order's id.") var order: String
        @Option(help: "Why.") var comment: String?
    }

    struct Release: OrderDecision {
        static let configuration = CommandConfiguration(abstract: "A manager releases an order on credit hold.")
        static let action = "release", done = "released"
        @OptionGroup var common: Common
        @Argument(help: "The order's id.") var order: String
        @Option(help: "Why.") var comment: String?
    }

    struct Team: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A manager's team, at any depth.")
        @OptionGroup var common: Common
        func run() async throws {
            try await DispatchCommand.call(common, .GET, "/v1/office/team", text: { answer in
                guard case .array(let members) = answer else { return "" }
                return members.map { "\($0["user"]?.string ?? "")  \(($0["role"]?.string ?? "").padding(toLength: 11, withPad: " ", startingAt: 0))  \($0["name"]?.string ?? "")" }
                    .joined(separator: "\n")
            })
        }
    }
}

extension DispatchCommand.OrderDecision {
    func run() async throws {
        try await DispatchCommand.call(common, .POST, "/v1/office/orders/\(order)/\(Self.action)", DispatchCommand.optional("comment", comment), text: { _ in Self.done })
    }
}
