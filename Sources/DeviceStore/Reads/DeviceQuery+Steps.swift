public import FieldModel
public import SyncCore

extension DeviceStore {
    /// A step of a work order's checklist (its type's), with the latest answer the phone holds.
    public struct WorkOrderStep: Sendable, Hashable {
        /// The step, its place, label and kind of answer (`yes_no`, `number`, `text`, `photo`), and whether completion needs it.
        public var id: RecordID, position: Int64, label: String, answerKind: String, required: Bool
        /// For a number, the range it should fall in.
        public var minValue: Int64?, maxValue: Int64?
        /// The latest answer, if any, and when it was given (the phone's time).
        public var answer: ServiceSteps.Answer?, answeredAt: Int64?

        /// Whether the step has an answer of its kind.
        public var isAnswered: Bool { answer?.kind == answerKind }

        /// The step as the rules see it.
        public var rule: ServiceSteps.Step {
            ServiceSteps.Step(id: id, label: label, answerKind: answerKind, required: required, minValue: minValue, maxValue: maxValue)
        }
    }

    /// The checklist of `workOrder`'s type, in order, each step with its latest answer.
    public func workOrderSteps(_ workOrder: RecordID) async throws -> [WorkOrderStep] {
        try await read(.workOrderSteps(workOrder))
    }
}

extension DeviceQuery where Value == [DeviceStore.WorkOrderStep] {
    /// The checklist of `workOrder`'s type, in order (position, then id), each step with its
    /// latest answer (by the phone's time, then id); empty when its type has none.
    public static func workOrderSteps(_ workOrder: RecordID) -> Self {
        Self { db, _ in
            let steps = try db.query("""
                SELECT s.id, coalesce(s.position, 0), coalesce(s.label, ''), coalesce(s.answer_kind, ''), coalesce(s.required, 0), s.min_value, s.max_value
                FROM work_orders w
                JOIN work_order_types t ON t.code = w.work_type AND t._deleted = 0
                JOIN work_order_type_steps s ON s.work_order_type_id = t.id AND s._deleted = 0
                WHERE w.id = ? ORDER BY 2, s.id
                """, [workOrder.bytes]).map { row in
                DeviceStore.WorkOrderStep(id: RecordID(bytes: try row.read(0, as: [UInt8].self))!, position: try row.read(1, as: Int64.self),
                                          label: try row.read(2, as: String.self), answerKind: try row.read(3, as: String.self), required: try row.read(4, as: Int64.self) != 0,
                                          minValue: try row.read(5, as: Int64?.self), maxValue: try row.read(6, as: Int64?.self), answer: nil, answeredAt: nil)
            }
            guard !steps.isEmpty else { return [] }
            var latest: [RecordID: (time: Int64, id: RecordID, answer: ServiceSteps.Answer)] = [:]
            for row in try db.query("""
                SELECT id, step_id, coalesce(answered_at, 0), yes_no, number_value, text_value, photo_attachment_id FROM step_answers WHERE work_order_id = ? AND _deleted = 0
                """, [workOrder.bytes]) {
                guard let id = RecordID(bytes: try row.read(0, as: [UInt8].self)), let step = RecordID(bytes: try row.read(1, as: [UInt8].self)) else { continue }
                let time = try row.read(2, as: Int64.self)
                if let seen = latest[step], (seen.time, seen.id) > (time, id) { continue }
                latest[step] = (time, id, ServiceSteps.Answer(yesNo: try row.read(3, as: Int64?.self).map { $0 != 0 }, number: try row.read(4, as: Int64?.self),
                                                             text: try row.read(5, as: String?.self), photo: try row.read(6, as: [UInt8]?.self).flatMap { RecordID(bytes: $0) }))
            }
            return steps.map { step in
                var step = step
                step.answer = latest[step.id]?.answer
                step.answeredAt = latest[step.id]?.time
                return step
            }
        }
    }
}

extension DeviceStore {
    /// A reading of an asset's meter the phone holds.
    public struct MeterReading: Sendable, Hashable {
        /// The reading, its meter, value and time (the reader's clock), and the work order it was taken on.
        public var id: RecordID, meter: String, value: Int64, readAt: Int64, workOrder: RecordID?
    }

    /// `asset`'s meter readings the phone holds, latest first (by time, then id).
    public func meterReadings(asset: RecordID) async throws -> [MeterReading] {
        try await read(.meterReadings(asset: asset))
    }
}

extension DeviceQuery where Value == [DeviceStore.MeterReading] {
    /// `asset`'s meter readings, latest first (by time, then id).
    public static func meterReadings(asset: RecordID) -> Self {
        Self { db, _ in
            try db.query("""
                SELECT id, coalesce(meter, ''), coalesce(reading, 0), coalesce(read_at, 0), work_order_id FROM meter_readings
                WHERE asset_id = ? AND _deleted = 0 ORDER BY read_at DESC, id DESC
                """, [asset.bytes]).compactMap { row in
                guard let id = RecordID(bytes: try row.read(0, as: [UInt8].self)) else { return nil }
                return DeviceStore.MeterReading(id: id, meter: try row.read(1, as: String.self), value: try row.read(2, as: Int64.self), readAt: try row.read(3, as: Int64.self),
                                                workOrder: try row.read(4, as: [UInt8]?.self).flatMap { RecordID(bytes: $0) })
            }
        }
    }
}
