public import SyncCore
public import SyncWire

extension DemoDataSet {
    /// One demo row as a record of the field model.
    public struct Record: Sendable, Hashable {
        /// The table.
        public var table: String
        /// The record's id (derived from the row's content for tables whose files have no `id`).
        public var id: RecordID
        /// The field values.
        public var fields: [String: FieldValue]
    }

    /// The data set as records of `schema`: columns become fields (`latitude` → `latitude_e6`),
    /// text becomes each field's type; columns the schema does not know are left out.
    public func records(for schema: Schema) throws -> [Record] {
        var records: [Record] = []
        for table in tables {
            guard let tableSchema = schema.table(table.name) else { continue }
            for row in table.rows {
                var fields: [String: FieldValue] = [:]
                var id: RecordID?
                for (column, cell) in zip(table.columns, row) {
                    if column == "id" { id = cell.flatMap { RecordID($0) }; continue }
                    let name = ["latitude": "latitude_e6", "longitude": "longitude_e6"][column] ?? column
                    guard let field = tableSchema.field(name) else { continue }
                    guard let cell else { fields[name] = .null; continue }
                    fields[name] = try Self.value(cell, as: field.type, column: "\(table.name).\(column)")
                }
                records.append(Record(table: table.name, id: id ?? Self.derivedID(table.name, row), fields: fields))
            }
        }
        return records
    }

    /// The records as snapshot rows written by the server at `clock`.
    public func snapshots(for schema: Schema, clock: HLC) throws -> [RecordSnapshot] {
        try records(for: schema).map { record in
            let version = Version(clock: clock, replica: .server)
            var state = RecordState()
            for (name, value) in record.fields {
                if case .counter = schema.table(record.table)?.field(name)?.type {
                    guard case .integer(let total) = value else { continue }
                    state.fields[name] = FieldState(value: .counter(CounterValue([.server: .init(total: total, clock: clock)])), version: version)
                } else {
                    state.fields[name] = FieldState(value: value, version: version)
                }
            }
            return RecordSnapshot(ref: RecordRef(table: record.table, record: record.id), state: state)
        }
    }

    static func value(_ text: String, as type: FieldType, column: String) throws -> FieldValue {
        switch type {
        case .bool:
            guard text == "true" || text == "false" else { throw DemoDataError("\(column): not a boolean") }
            return .bool(text == "true")
        case .integer, .money, .counter:
            if let value = Int64(text) { return .integer(value) }
            // Coordinates arrive in decimal degrees.
            return .integer(try scaled(text, scale: 6, column: column))
        case .decimal(let scale):
            return .integer(try scaled(text, scale: scale, column: column))
        case .text, .blobReference:
            return .text(text)
        case .reference:
            guard let id = RecordID(text) else { throw DemoDataError("\(column): not a UUID") }
            return .id(id)
        case .timestamp:
            return .timestamp(try milliseconds(text, column: column))
        case .state:
            return .state(StateValue(text))
        }
    }

    /// Decimal text as an integer count of 10^-scale units, exactly.
    static func scaled(_ text: String, scale: Int, column: String) throws -> Int64 {
        let negative = text.hasPrefix("-")
        let parts = text.drop { $0 == "-" }.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int64(parts[0]), parts.count == 1 || parts[1].count <= scale,
              let fraction = Int64(parts.count == 2 ? parts[1] + String(repeating: "0", count: scale - parts[1].count) : "0")
        else { throw DemoDataError("\(column): not a decimal with at most \(scale) places") }
        var power: Int64 = 1
        for _ in 0..<scale { power *= 10 }
        let value = whole * power + (parts.count == 2 ? fraction : 0)
        return negative ? -value : value
    }

    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` as milliseconds since the Unix epoch.
    static func milliseconds(_ text: String, column: String) throws -> Int64 {
        let digits = text.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int($0) }
        guard digits.count == 3 || digits.count == 6 else { throw DemoDataError("\(column): not a date or an RFC 3339 UTC time") }
        let day = CivilDate(year: digits[0], month: digits[1], day: digits[2]).daysSinceEpoch
        let seconds = digits.count == 6 ? digits[3] * 3600 + digits[4] * 60 + digits[5] : 0
        return Int64(day * 86_400 + seconds) * 1000
    }

    /// A stable id for a row whose file has no `id` column (FNV-1a over the table and cells).
    static func derivedID(_ table: String, _ row: [String?]) -> RecordID {
        var a: UInt64 = 0xCBF2_9CE4_8422_2325
        var b: UInt64 = 0x8422_2325_CBF2_9CE4
        for byte in (table + "\u{1}" + row.map { $0 ?? "\\N" }.joined(separator: "\u{1}")).utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 &+ 1
        }
        return RecordID(high: (a & ~0xF000) | 0x7000, low: (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
    }
}
