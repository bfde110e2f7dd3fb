import ArgumentParser
import DeviceStore
import FieldModel
import Foundation
import SyncCore
import SyncWire

extension DeviceCommand {
    /// A time given as a date (`2026-12-07`, midnight UTC) or an ISO 8601 time.
    static func time(_ text: String, _ what: String) throws -> Int64 {
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1_000).rounded()) }
        }
        throw CLIError(.usage, "\(what) is a date (2026-12-07) or a time (2026-12-07T09:00:00Z), not “\(text)”")
    }

    /// `fieldsim device week-plan …`: the rep's weekly plan (外出登记/周计划), proposed offline and
    /// approved or returned by the manager.
    struct WeekPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "week-plan", abstract: "The rep's weekly plans: list, create, propose, withdraw, submit, reopen.",
                                                        subcommands: [List.self, Create.self, Propose.self, Withdraw.self, Submit.self, Reopen.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The weekly plans on the phone, each with its proposed visits and the visits made for them.")
            @OptionGroup var common: Common
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    .array(try await store.read(.weekPlans).map { plan in
                        JSONValue.fields([
                            ("id", .string(plan.id.uuidString)), ("week_start", .text(plan.weekStart.map { Output.time($0) })), ("status", .string(plan.status)),
                            ("note", .text(plan.note)), ("decision_note", .text(plan.decisionNote)),
                            ("visits", .array(plan.proposals.map { proposal in
                                JSONValue.fields([("id", .string(proposal.id.uuidString)), ("customer_id", .text(proposal.customer?.uuidString)),
                                                  ("visit_type", .text(proposal.visitType)), ("start", .text(proposal.start.map { Output.time($0) })),
                                                  ("purpose", .text(proposal.purpose)), ("visit_id", .text(proposal.visit?.uuidString))])
                            })),
                        ])
                    })
                }, text: { answer in
                    guard case .array(let plans) = answer, !plans.isEmpty else { return "no weekly plans" }
                    return plans.map { plan in
                        var lines = ["plan \(plan["id"]?.string ?? "")  week of \(plan["week_start"]?.string ?? "")  \(plan["status"]?.string ?? "")"
                                     + (plan["decision_note"]?.string.map { "  manager: \($0)" } ?? "")]
                        if case .array(let visits)? = plan["visits"] {
                            for visit in visits {
                                lines.append("  \(visit["id"]?.string ?? "")  \(visit["start"]?.string ?? "")  customer \(visit["customer_id"]?.string ?? "")  \(visit["visit_type"]?.string ?? "")"
                                             + (visit["visit_id"]?.string.map { "  → visit \($0)" } ?? ""))
                            }
                        }
                        return lines.joined(separator: "\n")
                    }.joined(separator: "\n")
                })
            }
        }

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Start a plan for the week beginning --week, as a draft.")
            @OptionGroup var common: Common
            @Option(help: "The week's first day (2026-12-07).") var week: String
            @Option(help: "A note for the manager.") var note: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.createWeekPlan(weekStart: try DeviceCommand.time(week, "--week"), note: note), store)
                }, text: DeviceCommand.reportText("created plan"))
            }
        }

        struct Propose: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Propose a visit in a draft plan.")
            @OptionGroup var common: Common
            @Argument(help: "The plan's id.") var plan: String
            @Option(help: "The customer's id.") var customer: String
            @Option(help: "The start (2026-12-08T09:00:00Z).") var start: String
            @Option(help: "How long, in minutes.") var minutes: Int64 = 60
            @Option(help: "The visit type.") var type = "sales"
            @Option(help: "What the visit is for.") var purpose: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    let begin = try DeviceCommand.time(start, "--start")
                    return try await DeviceCommand.report(try await store.proposeVisit(plan: try DeviceCommand.id(plan, "the plan"), customer: try DeviceCommand.id(customer, "--customer"),
                                                                                      start: begin, end: begin + minutes * 60_000, visitType: type, purpose: purpose), store)
                }, text: DeviceCommand.reportText("proposed visit"))
            }
        }

        struct Withdraw: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Withdraw a proposed visit from a draft plan.")
            @OptionGroup var common: Common
            @Argument(help: "The proposed visit's id.") var proposal: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.withdrawProposal(try DeviceCommand.id(proposal, "the proposed visit")), store)
                }, text: DeviceCommand.reportText("withdrew"))
            }
        }

        struct Submit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Submit a draft plan to the manager.")
            @OptionGroup var common: Common
            @Argument(help: "The plan's id.") var plan: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.submitWeekPlan(try DeviceCommand.id(plan, "the plan")), store)
                }, text: DeviceCommand.reportText("submitted plan"))
            }
        }

        struct Reopen: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Reopen a returned plan as a draft.")
            @OptionGroup var common: Common
            @Argument(help: "The plan's id.") var plan: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.reopenWeekPlan(try DeviceCommand.id(plan, "the plan")), store)
                }, text: DeviceCommand.reportText("reopened plan"))
            }
        }
    }

    /// `fieldsim device answer TASK …`: a visit task answered with its kind of result.
    struct Answer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer a visit's task with its kind of result (yes/no, a number, a text, a photo) and mark it done.")
        @OptionGroup var common: Common
        @Argument(help: "The task's id (fieldsim device visit ID lists them).") var task: String
        @Option(help: "yes or no.") var yesNo: String?
        @Option(help: "A number.") var number: Int64?
        @Option(help: "A text.") var text: String?
        @Option(help: "A photo file.") var photo: String?
        func validate() throws {
            guard [yesNo != nil, number != nil, text != nil, photo != nil].filter({ $0 }).count == 1 else {
                throw ValidationError("give one of --yes-no, --number, --text, --photo")
            }
            if let yesNo, !["yes", "no"].contains(yesNo) { throw ValidationError("--yes-no is yes or no") }
        }
        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                let answer = ServiceSteps.Answer(yesNo: yesNo.map { $0 == "yes" }, number: number, text: text)
                let file = try photo.map { try DeviceCommand.attachment($0, kind: .photo) }
                return try await DeviceCommand.report(try await store.answerTask(try DeviceCommand.id(task, "the task"), answer: answer, photo: file,
                                                                                at: Int64(Date().timeIntervalSince1970 * 1_000)), store)
            }, text: DeviceCommand.reportText("answered"))
        }
    }
}
