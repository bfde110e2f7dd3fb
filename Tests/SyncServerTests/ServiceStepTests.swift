import FieldModel
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine
import SyncWire
import Testing

@testable import SyncServer

/// Service steps against a real PostgreSQL (issue 19, item 4): a type's checklist set by the
/// office reaches the technician; answers pushed from the phone are judged (a number out of
/// range, an answer of the wrong kind flagged, never refused); a completion with a required step
/// unanswered is flagged; the missing answer arriving later is noted as completing the checklist;
/// the office's work-order page shows each step with its latest answer.
@Suite("Service steps")
struct ServiceStepTests {
    @Test("answers judged on arrival, a completion without the required steps flagged, a late answer noted, the office sees the checklist")
    func checklist() async throws {
        let world = try await HostileWorld.make("service-steps")
        let dispatcher = SyncStore.OfficeUser(user: try world.users(.dispatcher)[0], role: .dispatcher, tenant: world.tenant)
        let technician = try world.users(.technician)[0]
        _ = try await world.store.saveWorkOrderType(code: "boiler_service", name: "Boiler service", durationMinutes: 60, signatureRequired: false, skills: [:], steps: [
            .init(label: "Flue checked", answerKind: "yes_no"),
            .init(label: "Pressure (bar)", answerKind: "number", minValue: 1, maxValue: 4),
            .init(label: "Notes", answerKind: "text", required: false),
        ], by: dispatcher)
        // A wrong kind is refused by the office: the checklist takes four kinds.
        await #expect(throws: SyncStore.OfficeError.self) {
            _ = try await world.store.saveWorkOrderType(code: "x", name: "x", durationMinutes: 60, signatureRequired: false, skills: [:],
                                                        steps: [.init(label: "x", answerKind: "colour")], by: dispatcher)
        }
        let steps = try await world.pool.query("SELECT id::text, label FROM work_order_type_steps WHERE tenant_id = $1 ORDER BY position", [world.tenant.uuidString])
            .map { (RecordID(try $0.read(0, as: String.self))!, try $0.read(1, as: String.self)) }
        #expect(steps.map(\.1) == ["Flue checked", "Pressure (bar)", "Notes"])
        let customer = try world.customers(of: try world.rep).own
        let order = try await world.store.createWorkOrder(SyncStore.NewWorkOrder(customer: customer, workType: "boiler_service", windowStart: Int64(world.clock.now()),
                                                                                 windowEnd: Int64(world.clock.now()) + 3_600_000, assignee: technician), by: dispatcher)
        let phone = try await world.phone(technician, .technician)
        world.clock.advance(by: 60_000)
        func answer(_ step: Int, _ fields: [(String, FieldValue)]) -> Change {
            phone.change("step_answers", RecordID.random(), [("work_order_id", .id(order)), ("step_id", .id(steps[step].0)), ("answered_by", .id(technician)),
                                                            ("answered_at", .timestamp(Int64(world.clock.now())))] + fields)
        }
        // A pressure of 7 and a text for the yes/no step: kept, flagged.
        let answers = try await phone.push([answer(1, [("number_value", .integer(7))]), answer(0, [("text_value", .text("looked fine"))])])
        #expect(answers.map(\.result) == [.appliedWithException, .appliedWithException], "\(answers)")
        #expect(answers[0].findings.map(\.rule) == ["step_out_of_range"] && answers[1].findings.map(\.rule) == ["step_answer_invalid"])
        // Completing without a yes/no for the flue: flagged.
        world.clock.advance(by: 60_000)
        let moves = try await phone.push([
            phone.change("work_orders", order, [("status", .state(StateValue("en_route")))]),
            phone.change("work_orders", order, [("status", .state(StateValue("on_site"))), ("actual_start", .timestamp(Int64(world.clock.now())))]),
            phone.change("work_orders", order, [("status", .state(StateValue("completed"))), ("actual_end", .timestamp(Int64(world.clock.now())))]),
        ])
        #expect(moves[2].findings.contains { $0.rule == "steps_missing" && $0.message.contains("“Flue checked”") && !$0.message.contains("Pressure") }, "\(moves)")
        // The flue answer arrives after the completion: applied, and noted as completing the checklist.
        world.clock.advance(by: 60_000)
        let late = try await phone.push([answer(0, [("yes_no", .bool(true))])])
        #expect(late[0].result == .applied, "\(late)")
        let notes = try await world.pool.query("SELECT message FROM decisions WHERE tenant_id = $1 AND record = $2::uuid AND rule = 'steps_missing' ORDER BY seq",
                                               [world.tenant.uuidString, order.uuidString]).map { try $0.read(0, as: String.self) }
        #expect(notes.last == "the required steps were answered after the completion; the checklist is complete", "\(notes)")
        // The office's page: every step with its latest answer.
        let detail = try await world.store.workOrder(order, by: dispatcher)
        #expect(detail.steps.map { "\($0.label)=\($0.answer ?? "-")" } == ["Flue checked=yes", "Pressure (bar)=7", "Notes=-"])
    }
}
