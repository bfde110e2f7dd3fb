import ArgumentParser
import Foundation
import NIOHTTP1
import SyncWire

/// `fieldsim dispatch technician …`, `work-type …` and `auto-dispatch …`: technicians' resources,
/// work-order types and automatic dispatch through the office API (office.md, "Technicians and
/// automatic dispatch").
extension DispatchCommand {
    /// A number or other JSON value as one line of text.
    static func plain(_ value: JSONValue?) -> String {
        value?.printed.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// `LABEL:KIND[:optional][:MIN:MAX]` as a checklist step.
    static func step(_ text: String) throws -> JSONValue {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty else { throw ValidationError("a step is LABEL:KIND[:optional][:MIN:MAX]") }
        var fields: [(String, JSONValue)] = [("label", .string(parts[0])), ("answer_kind", .string(parts[1]))]
        parts.removeFirst(2)
        fields.append(("required", .bool(parts.first != "optional")))
        if parts.first == "optional" { parts.removeFirst() }
        if !parts.isEmpty {
            guard parts.count == 2, let low = Int64(parts[0]), let high = Int64(parts[1]) else { throw ValidationError("a step's range is MIN:MAX") }
            fields += [("min_value", .number(String(low))), ("max_value", .number(String(high)))]
        }
        return .fields(fields)
    }

    /// `{"boiler": 3}` as `boiler L3`, or `none`.
    static func levelsText(_ value: JSONValue?) -> String {
        guard case .object(let members)? = value, !members.isEmpty else { return "none" }
        return members.map { "\($0.key) L\(plain($0.value))" }.joined(separator: ", ")
    }

    /// `name=level` pairs (`boiler=2`) as a JSON object.
    static func levels(_ pairs: [String]) throws -> JSONValue {
        .object(try pairs.map { pair in
            guard let equals = pair.firstIndex(of: "="), let level = Int(pair[pair.index(after: equals)...]) else {
                throw ValidationError("a skill is name=level, for example boiler=2")
            }
            return JSONValue.Member(String(pair[..<equals]), .number(String(level)))
        })
    }

    /// The days of `working_days`, from names (`mon,tue,…`).
    static func workingDays(_ text: String) throws -> Int {
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        return try text.lowercased().split(separator: ",").reduce(0) { mask, name in
            guard let day = names.firstIndex(of: String(name.prefix(3))) else { throw ValidationError("days are mon,tue,wed,thu,fri,sat,sun") }
            return mask | 1 << day
        }
    }

    /// `HH:MM` as minutes after midnight.
    static func minutes(_ text: String) throws -> Int {
        let parts = text.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 2, (0...24).contains(parts[0]), (0...59).contains(parts[1]), parts[0] * 60 + parts[1] <= 1_440 else {
            throw ValidationError("a time of day is HH:MM")
        }
        return parts[0] * 60 + parts[1]
    }

    static func decisionsText(_ answer: JSONValue) -> String {
        guard case .array(let decisions)? = answer["decisions"], !decisions.isEmpty else { return "no decisions" }
        return decisions.map { decision in
            let who = decision["technician_name"]?.string ?? decision["technician"]?.string ?? "-"
            let when = decision["slot_start"]?.string.map { " at \($0)" } ?? ""
            return "#\(DispatchCommand.plain(decision["id"]).nonEmpty(or: ""))  \(decision["work_order"]?.string ?? "")  \(decision["outcome"]?.string ?? "")  \(who)\(when)  [\(decision["review"]?.string ?? "")]  \(decision["reason"]?.string ?? "")"
        }.joined(separator: "\n")
    }

    struct Technician: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "technician", abstract: "Technicians' resources: list, profile, skills, territories, absence.",
                                                        subcommands: [List.self, Profile.self, Skills.self, Territories.self, Absence.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every technician with their week, skills, territories and absences.")
            @OptionGroup var common: Common
            func run() async throws {
                try await DispatchCommand.call(common, .GET, "/v1/office/technicians", text: { answer in
                    guard case .array(let people)? = answer["technicians"], !people.isEmpty else { return "no technicians" }
                    return people.map { person in
                        let skills = DispatchCommand.levelsText(person["skills"])
                        let week = person["profile"].flatMap { profile -> String? in
                            guard case .number(let start)? = profile["workday_start_minute"], case .number(let end)? = profile["workday_end_minute"],
                                  let from = Int(start), let to = Int(end) else { return nil }
                            func clock(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }
                            return "\(clock(from))–\(clock(to)), \(DispatchCommand.plain(profile["daily_capacity"]).nonEmpty(or: "?")) a day"
                        } ?? "no working week"
                        let absences = (person["absences"].flatMap { if case .array(let list) = $0 { list.count } else { nil } }) ?? 0
                        return "\(person["id"]?.string ?? "")  \(person["name"]?.string ?? "")  \(week)  skills: \(skills)  "
                            + "open work orders: \(DispatchCommand.plain(person["open_work_orders"]).nonEmpty(or: "0"))\(absences > 0 ? "  absences: \(absences)" : "")"
                    }.joined(separator: "\n")
                })
            }
        }

        struct Profile: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set a technician's working week and start location.")
            @OptionGroup var common: Common
            @Argument(help: "The technician's id.") var technician: String
            @Option(help: "When the day starts, HH:MM local.") var start = "08:00"
            @Option(help: "When it ends, HH:MM local.") var end = "17:00"
            @Option(help: "Working days, e.g. mon,tue,wed,thu,fri.") var days = "mon,tue,wed,thu,fri"
            @Option(help: "The most jobs in a day.") var capacity = 6
            @Option(help: "Where the day starts: latitude in degrees.") var latitude: Double?
            @Option(help: "Where the day starts: longitude in degrees.") var longitude: Double?
            func run() async throws {
                var body: [(String, JSONValue)] = [("workday_start_minute", .number(String(try DispatchCommand.minutes(start)))),
                                                   ("workday_end_minute", .number(String(try DispatchCommand.minutes(end)))),
                                                   ("working_days", .number(String(try DispatchCommand.workingDays(days)))), ("daily_capacity", .number(String(capacity)))]
                if let latitude, let longitude {
                    body += [("start_latitude_e6", .number(String(Int64((latitude * 1e6).rounded())))), ("start_longitude_e6", .number(String(Int64((longitude * 1e6).rounded()))))]
                }
                try await DispatchCommand.call(common, .POST, "/v1/office/technicians/\(technician)/profile", body, text: { _ in "profile set" })
            }
        }

        struct Skills: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set a technician's skills to exactly these (name=level, levels 1 to 5).")
            @OptionGroup var common: Common
            @Argument(help: "The technician's id.") var technician: String
            @Argument(help: "Skills, e.g. boiler=3 gas=1.") var skills: [String] = []
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/technicians/\(technician)/skills", [("skills", try DispatchCommand.levels(skills))],
                                               text: { _ in "skills set" })
            }
        }

        struct Territories: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set the territories a technician serves to exactly these.")
            @OptionGroup var common: Common
            @Argument(help: "The technician's id.") var technician: String
            @Argument(help: "Territory ids.") var territories: [String] = []
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/technicians/\(technician)/territories", [("territories", .array(territories.map(JSONValue.string)))],
                                               text: { _ in "territories set" })
            }
        }

        struct Absence: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Record a technician's time off, or remove it with --remove ID.")
            @OptionGroup var common: Common
            @Argument(help: "The technician's id (or, with --remove, nothing).") var technician: String?
            @Option(help: "From (ISO 8601).") var from: String?
            @Option(help: "To (ISO 8601).") var to: String?
            @Option(help: "Why.") var reason: String?
            @Option(help: "Remove this absence instead.") var remove: String?
            func validate() throws {
                guard remove != nil || (technician != nil && from != nil && to != nil) else { throw ValidationError("give a technician, --from and --to, or --remove ID") }
            }
            func run() async throws {
                if let remove {
                    try await DispatchCommand.call(common, .POST, "/v1/office/absences/\(remove)/delete", [], text: { _ in "absence removed" })
                } else if let technician, let from, let to {
                    try await DispatchCommand.call(common, .POST, "/v1/office/technicians/\(technician)/absences",
                                                   [("starts_at", .string(from)), ("ends_at", .string(to))] + DispatchCommand.optional("reason", reason),
                                                   text: DispatchCommand.created("absence"))
                }
            }
        }
    }

    struct WorkType: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "work-type", abstract: "Work-order types: list, save.", subcommands: [List.self, Save.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The work-order types with their duration and required skills.")
            @OptionGroup var common: Common
            func run() async throws {
                try await DispatchCommand.call(common, .GET, "/v1/office/work-order-types", text: { answer in
                    guard case .array(let types)? = answer["work_order_types"], !types.isEmpty else { return "no work-order types" }
                    return types.map { type in
                        let skills = DispatchCommand.levelsText(type["skills"])
                        return "\(type["code"]?.string ?? "")  \(type["name"]?.string ?? "")  \(DispatchCommand.plain(type["duration_minutes"]).nonEmpty(or: "")) min  skills: \(skills)"
                    }.joined(separator: "\n")
                })
            }
        }

        struct Save: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create or update a work-order type; its skills become exactly these.")
            @OptionGroup var common: Common
            @Argument(help: "The code (a work order's --type).") var code: String
            @Option(help: "Its name.") var name: String?
            @Option(help: "How long it takes, in minutes.") var minutes = 60
            @Flag(help: "Completion needs the customer's signature.") var signature = false
            @Argument(help: "Required skills, e.g. boiler=2.") var skills: [String] = []
            @Option(help: "A checklist step, in order (repeatable): LABEL:KIND[:optional][:MIN:MAX], KIND one of yes_no, number, text, photo; e.g. 'Pressure (bar):number:1:4'.")
            var step: [String] = []
            func run() async throws {
                var body: [(String, JSONValue)] = [("code", .string(code)), ("name", .string(name ?? code)), ("duration_minutes", .number(String(minutes))),
                                                   ("signature_required", .bool(signature)), ("skills", try DispatchCommand.levels(skills))]
                if !step.isEmpty { body.append(("steps", .array(try step.map(DispatchCommand.step)))) }
                try await DispatchCommand.call(common, .POST, "/v1/office/work-order-types", body, text: DispatchCommand.created("work-order type"))
            }
        }
    }

    struct AutoDispatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "auto-dispatch", abstract: "Automatic dispatch: run, decisions, accept, mode, tenant.",
                                                        subcommands: [Run.self, Decisions.self, Accept.self, Mode.self, Tenant.self])

        struct Run: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Dispatch now: these work orders, or every one automatic dispatch may take.")
            @OptionGroup var common: Common
            @Argument(help: "Work-order ids (none: every open one set to auto).") var workOrders: [String] = []
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/dispatch/run",
                                               workOrders.isEmpty ? [] : [("work_orders", .array(workOrders.map(JSONValue.string)))], text: DispatchCommand.decisionsText)
            }
        }

        struct Decisions: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Automatic dispatch's decisions, newest first, with their reasons.")
            @OptionGroup var common: Common
            @Option(help: "Only this work order's.") var workOrder: String?
            @Option(help: "open, accepted, overridden or superseded.") var review: String?
            func run() async throws {
                var query = ["limit=100"]
                if let workOrder { query.append("work_order=\(workOrder)") }
                if let review { query.append("review=\(review)") }
                try await DispatchCommand.call(common, .GET, "/v1/office/dispatch/decisions?" + query.joined(separator: "&"), text: DispatchCommand.decisionsText)
            }
        }

        struct Accept: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Accept an open assignment (override one by assigning someone else: dispatch work-order assign).")
            @OptionGroup var common: Common
            @Argument(help: "The decision's number.") var decision: Int
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/dispatch/decisions/\(decision)/accept", [], text: { _ in "accepted" })
            }
        }

        struct Mode: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Turn automatic dispatch on (auto) or off (manual) for a work order, or back to the tenant's (tenant).")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Argument(help: "auto, manual or tenant.") var mode: String
            func validate() throws {
                guard ["auto", "manual", "tenant"].contains(mode) else { throw ValidationError("the mode is auto, manual or tenant") }
            }
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/work-orders/\(workOrder)/dispatch-mode", [("mode", mode == "tenant" ? .null : .string(mode))],
                                               text: { _ in "dispatch mode set" })
            }
        }

        struct Tenant: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "An admin turns the tenant's automatic dispatch on or off.")
            @OptionGroup var common: Common
            @Argument(help: "on or off.") var state: String
            func validate() throws {
                guard ["on", "off"].contains(state) else { throw ValidationError("on or off") }
            }
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/settings/auto-dispatch", [("enabled", .bool(state == "on"))],
                                               text: { _ in "automatic dispatch is \(state)" })
            }
        }
    }
}


extension DispatchCommand {
    struct MaintenancePlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "maintenance-plan", abstract: "Assets' maintenance plans: list, save, run; an asset's meters.",
                                                        subcommands: [List.self, Save.self, Run.self, Meters.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Maintenance plans, of one asset or all.")
            @OptionGroup var common: Common
            @Option(help: "Only this asset's.") var asset: String?
            func run() async throws {
                try await DispatchCommand.call(common, .GET, "/v1/office/maintenance-plans" + (asset.map { "?asset=\($0)" } ?? ""), text: { answer in
                    guard case .array(let plans)? = answer["maintenance_plans"], !plans.isEmpty else { return "no maintenance plans" }
                    return plans.map { plan in
                        let every = if case .number(let days)? = plan["interval_days"] { "every \(days) days" }
                            else if case .number(let units)? = plan["interval_meter"] { "every \(units) \(plan["meter"]?.string ?? "") from \(DispatchCommand.plain(plan["meter_start"]))," }
                            else { "every \(DispatchCommand.plain(plan["interval_months"])) months" }
                        return "\(plan["id"]?.string ?? "")  asset \(plan["asset_id"]?.string ?? "")  \(plan["work_type"]?.string ?? "")  \(every) from \(plan["starts_at"]?.string ?? "")"
                            + (plan["active"] == .bool(false) ? "  (inactive)" : "")
                    }.joined(separator: "\n")
                })
            }
        }

        struct Save: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a plan, or rewrite one with --id; the next run re-plans its work orders.")
            @OptionGroup var common: Common
            @Option(help: "The asset's id.") var asset: String
            @Option(help: "Rewrite this plan.") var id: String?
            @Option(help: "Every so many days.") var days: Int?
            @Option(help: "Every so many months.") var months: Int?
            @Option(help: "Every so many units of --meter.") var every: Int64?
            @Option(help: "The meter a plan by meter follows (e.g. hours).") var meter: String?
            @Option(help: "The reading a plan by meter counts from.") var meterStart: Int64 = 0
            @Option(help: "The first due date (ISO 8601).") var start: String
            @Option(help: "The last (ISO 8601).") var end: String?
            @Option(help: "The work type.") var type = "maintenance"
            @Option(help: "low, normal, high, urgent.") var priority = "normal"
            @Option(help: "Days ahead to generate.") var lead = 30
            @Flag(help: "Stop generating (future unassigned work orders are cancelled).") var inactive = false
            func validate() throws {
                guard [days != nil, months != nil, every != nil].filter({ $0 }).count == 1 else { throw ValidationError("give --days, --months or --every (with --meter)") }
                guard (every == nil) == (meter == nil) else { throw ValidationError("a plan by meter gives --every and --meter together") }
            }
            func run() async throws {
                var body: [(String, JSONValue)] = [("asset_id", .string(asset)), ("starts_at", .string(start)), ("work_type", .string(type)), ("priority", .string(priority)),
                                                   ("lead_days", .number(String(lead))), ("active", .bool(!inactive))]
                if let days { body.append(("interval_days", .number(String(days)))) }
                if let months { body.append(("interval_months", .number(String(months)))) }
                if let every, let meter { body += [("interval_meter", .number(String(every))), ("meter", .string(meter)), ("meter_start", .number(String(meterStart)))] }
                body += DispatchCommand.optional("ends_at", end)
                try await DispatchCommand.call(common, .POST, "/v1/office/maintenance-plans" + (id.map { "/\($0)" } ?? ""), body, text: DispatchCommand.created("maintenance plan"))
            }
        }

        struct Meters: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "An asset's meter readings (latest first) and where its plans by meter stand.")
            @OptionGroup var common: Common
            @Argument(help: "The asset's id.") var asset: String
            func run() async throws {
                try await DispatchCommand.call(common, .GET, "/v1/office/assets/\(asset)/meter-readings", text: { answer in
                    var lines: [String] = []
                    if case .array(let forecasts)? = answer["forecasts"] {
                        for forecast in forecasts {
                            let due = forecast["due_at"]?.string.map { "due \($0)" } ?? "no forecast (the meter is not rising)"
                            lines.append("plan \(forecast["plan_id"]?.string ?? "")  \(forecast["meter"]?.string ?? "") at \(DispatchCommand.plain(forecast["latest"])), next \(DispatchCommand.plain(forecast["next_threshold"])): \(due)")
                        }
                    }
                    if case .array(let readings)? = answer["readings"] {
                        for reading in readings {
                            lines.append("\(reading["read_at"]?.string ?? "")  \(reading["meter"]?.string ?? "") \(DispatchCommand.plain(reading["reading"]))")
                        }
                    }
                    return lines.isEmpty ? "no meter readings" : lines.joined(separator: "\n")
                })
            }
        }

        struct Run: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Generate, re-plan and cancel planned work orders now (the hourly job).")
            @OptionGroup var common: Common
            func run() async throws {
                try await DispatchCommand.call(common, .POST, "/v1/office/maintenance-plans/run", [], text: { answer in
                    "created \(DispatchCommand.plain(answer["created"])), updated \(DispatchCommand.plain(answer["updated"])), cancelled \(DispatchCommand.plain(answer["cancelled"]))"
                })
            }
        }
    }
}

extension String {
    /// The text, or `fallback` when it is empty.
    func nonEmpty(or fallback: String) -> String { isEmpty ? fallback : self }
}
