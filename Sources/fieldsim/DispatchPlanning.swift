import ArgumentParser
import Foundation
import NIOHTTP1
import SyncWire

/// `fieldsim dispatch week-plan …` and `visit-schedule …`: the rep's visit planning through the
/// office API (office.md, "Visit planning"): a manager approves or returns weekly plans; the
/// office sets how often reps visit customers, and the server makes the dated visits.
extension DispatchCommand {
    struct WeekPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "week-plan", abstract: "Reps' weekly plans: list, approve, return (managers).",
                                                        subcommands: [List.self, Approve.self, Return.self])

        static func text(_ plan: JSONValue) -> String {
            var lines = ["plan \(plan["id"]?.string ?? "")  rep \(plan["rep_id"]?.string ?? "")  week of \(plan["week_start"]?.string ?? "")  \(plan["status"]?.string ?? "")"
                         + (plan["note"]?.string.map { "  “\($0)”" } ?? "") + (plan["decision_note"]?.string.map { "  manager: \($0)" } ?? "")]
            if case .array(let visits)? = plan["visits"] {
                for visit in visits {
                    lines.append("  \(visit["planned_start"]?.string ?? "")  customer \(visit["customer_id"]?.string ?? "")  \(visit["visit_type"]?.string ?? "")"
                                 + (visit["purpose"]?.string.map { "  \($0)" } ?? "") + (visit["visit_id"]?.string.map { "  → visit \($0)" } ?? ""))
                }
            }
            return lines.joined(separator: "\n")
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The team's weekly plans, newest week first.")
            @OptionGroup var common: Common
            @Option(help: "Only plans in this status (draft, submitted, returned, approved).") var status: String?
            @Option(help: "Only this rep's.") var rep: String?
            func run() async throws {
                let query = [status.map { "status=\($0)" }, rep.map { "rep=\($0)" }].compactMap { $0 }.joined(separator: "&")
                try await DispatchCommand.call(common, .GET, "/v1/office/week-plans" + (query.isEmpty ? "" : "?" + query), text: { answer in
                    guard case .array(let plans)? = answer["week_plans"], !plans.isEmpty else { return "no weekly plans" }
                    return plans.map(WeekPlan.text).joined(separator: "\n")
                })
            }
        }

        struct Approve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Approve a submitted plan: its visits are made and reach the rep's phone.")
            @OptionGroup var common: Common
            @Argument(help: "The plan's id.") var plan: String
            @Option(help: "A note for the rep.") var note: String?
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/week-plans/\(plan)/approve", DispatchCommand.optional("note", note), text: WeekPlan.text)
            }
        }

        struct Return: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Return a submitted plan to the rep, saying why.")
            @OptionGroup var common: Common
            @Argument(help: "The plan's id.") var plan: String
            @Option(help: "Why.") var note: String
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/week-plans/\(plan)/return", [("note", .string(note))], text: WeekPlan.text)
            }
        }
    }

    struct VisitSchedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "visit-schedule", abstract: "Recurring visit plans: list, save, run.",
                                                        subcommands: [List.self, Save.self, Run.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Recurring visit plans, of one rep or customer, or all.")
            @OptionGroup var common: Common
            @Option(help: "Only this rep's.") var rep: String?
            @Option(help: "Only this customer's.") var customer: String?
            func run() async throws {
                let query = [rep.map { "rep=\($0)" }, customer.map { "customer=\($0)" }].compactMap { $0 }.joined(separator: "&")
                try await DispatchCommand.call(common, .GET, "/v1/office/visit-schedules" + (query.isEmpty ? "" : "?" + query), text: { answer in
                    guard case .array(let schedules)? = answer["visit_schedules"], !schedules.isEmpty else { return "no recurring visit plans" }
                    return schedules.map { schedule in
                        let minute = Int(DispatchCommand.plain(schedule["start_minute"])) ?? 0
                        return "\(schedule["id"]?.string ?? "")  customer \(schedule["customer_id"]?.string ?? "")  rep \(schedule["rep_id"]?.string ?? "")"
                            + "  every \(DispatchCommand.plain(schedule["every_weeks"])) week(s) on day \(DispatchCommand.plain(schedule["weekday"]))"
                            + String(format: " at %02d:%02d", minute / 60, minute % 60) + (schedule["active"] == .bool(false) ? "  (inactive)" : "")
                    }.joined(separator: "\n")
                })
            }
        }

        struct Save: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a recurring visit plan, or rewrite one with --id; the next run re-plans its visits.")
            @OptionGroup var common: Common
            @Option(help: "Rewrite this plan.") var id: String?
            @Option(help: "The customer's id.") var customer: String
            @Option(help: "The rep's id.") var rep: String
            @Option(help: "Every so many weeks (1 to 52).") var every = 1
            @Option(help: "The weekday, 1 (Monday) to 7 (Sunday).") var weekday: Int
            @Option(help: "The local start time, HH:MM.") var at = "09:00"
            @Option(help: "How long, in minutes.") var minutes = 60
            @Option(help: "The first day (2026-12-07).") var start: String
            @Option(help: "The day it ends.") var end: String?
            @Option(help: "The visit type.") var type = "sales"
            @Option(help: "Days ahead to make visits (1 to 90).") var lead = 14
            @Flag(help: "Stop making visits (future planned ones are cancelled).") var inactive = false
            func run() async throws {
                let parts = at.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else { throw ValidationError("--at is HH:MM") }
                var body: [(String, JSONValue)] = [
                    ("customer_id", .string(customer)), ("rep_id", .string(rep)), ("every_weeks", .number(String(every))), ("weekday", .number(String(weekday))),
                    ("start_minute", .number(String(parts[0] * 60 + parts[1]))), ("duration_minutes", .number(String(minutes))), ("starts_on", .string(VisitSchedule.day(start))),
                    ("visit_type", .string(type)), ("lead_days", .number(String(lead))), ("active", .bool(!inactive)),
                ]
                body += DispatchCommand.optional("ends_on", end.map(VisitSchedule.day))
                try await DispatchCommand.call(common, .POST, "/v1/office/visit-schedules" + (id.map { "/\($0)" } ?? ""), body, text: DispatchCommand.created("recurring visit plan"))
            }
        }

        /// A day (`2026-12-07`) as the time it starts, UTC; a time as it is.
        static func day(_ text: String) -> String { text.count == 10 ? text + "T00:00:00Z" : text }

        struct Run: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make the visits of every recurring plan now (the server does it hourly).")
            @OptionGroup var common: Common
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/visit-schedules/run", text: { answer in
                    "created \(DispatchCommand.plain(answer["created"])), updated \(DispatchCommand.plain(answer["updated"])), cancelled \(DispatchCommand.plain(answer["cancelled"]))"
                })
            }
        }
    }

    /// `fieldsim dispatch devices`: the registered phones, as the office sees them.
    struct Devices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Registered phones: replica, user, platform and app version, last pull, buckets behind, revoked.")
        @OptionGroup var common: Common
        @Option(help: "Only this user's phones.") var user: String?
        func run() async throws {
            try await DispatchCommand.call(common, .GET, "/v1/office/devices" + (user.map { "?user=\($0)" } ?? ""), text: { answer in
                guard case .array(let devices)? = answer["devices"], !devices.isEmpty else { return "no devices" }
                return devices.map { device in
                    let state = device["revoked"] == .bool(true) ? (device["wipe"] == .bool(true) ? "  wiped" : "  revoked") : ""
                    return "replica \(DispatchCommand.plain(device["replica"]))  \(device["user_name"]?.string ?? device["user"]?.string ?? "")  "
                        + "\(device["platform"]?.string ?? "") \(device["app_version"]?.string ?? "")  last pull \(device["last_pull"]?.string ?? "never")  "
                        + "\(DispatchCommand.plain(device["buckets_behind"])) buckets behind" + state
                }.joined(separator: "\n")
            })
        }
    }
}
