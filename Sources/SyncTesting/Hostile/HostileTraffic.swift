public import SyncCore

/// A seeded generator of pushes no honest phone sends: for any table and field of a schema,
/// values at and past their bounds, text with U+0000 or over its length, words outside a
/// vocabulary, unknown states and epochs, wrong types, ids that exist nowhere or in another
/// territory, other users' ids in author fields, unknown tables and fields, deletes of facts, and
/// clocks stamped weeks back or days ahead — mixed with valid writes, so that the server's path
/// past admission is exercised too.
///
/// The same seed and context give the same traffic, so a failing step replays exactly
/// (`HostileTrafficTests` prints the seed and the step).
public struct HostileTraffic: Sendable {
    /// What the generator may aim at.
    public struct Target: Sendable {
        /// The user the phone signs in as.
        public var user: RecordID
        /// The phone's replica.
        public var replica: ReplicaID
        /// Rows the user may see, by table.
        public var own: [String: [RecordID]]
        /// Rows the user may not see, by table.
        public var foreign: [String: [RecordID]]
        /// Other users of the tenant.
        public var others: [RecordID]

        /// Creates a target.
        public init(user: RecordID, replica: ReplicaID, own: [String: [RecordID]], foreign: [String: [RecordID]], others: [RecordID]) {
            self.user = user
            self.replica = replica
            self.own = own
            self.foreign = foreign
            self.others = others
        }
    }

    /// One generated change, with a line saying what is hostile about it.
    public struct Step: Sendable {
        /// The change set to push.
        public var changeSet: ChangeSet
        /// What the generator did, for the failure message.
        public var description: String
    }

    private var random: SplitMix64
    private let schema: Schema

    /// Creates a generator for `schema` whose choices follow from `seed`.
    public init(seed: UInt64, schema: Schema) {
        self.random = SplitMix64(seed: seed)
        self.schema = schema
    }

    /// The next change set of one to four changes, stamped around `now` (milliseconds).
    public mutating func next(for target: Target, now: UInt64) -> Step {
        let count = Int(random.next() % 4) + 1
        var changes: [Change] = []
        var notes: [String] = []
        let stamp = clock(around: now, notes: &notes)
        for index in 0..<count {
            let (change, note) = change(for: target, clock: HLC(milliseconds: stamp, counter: UInt16(index)))
            changes.append(change)
            notes.append(note)
        }
        return Step(changeSet: ChangeSet(id: ChangeID(id()), changes: changes), description: notes.joined(separator: "; "))
    }

    // MARK: - Choices

    private mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    private mutating func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
    private mutating func id() -> RecordID { RecordID(high: (random.next() & ~0xF000) | 0x7000, low: random.next()) }

    private mutating func clock(around now: UInt64, notes: inout [String]) -> UInt64 {
        switch random.next() % 20 {
        case 0: notes.append("clock 30 days back"); return now - 30 * 86_400_000
        case 1: notes.append("clock a day ahead"); return now + 86_400_000
        case 2: notes.append("clock an hour back"); return now - 3_600_000
        default: return now
        }
    }

    private mutating func change(for target: Target, clock: HLC) -> (Change, String) {
        let version = Version(clock: clock, replica: chance(3) ? ReplicaID(UInt32(random.next() % 1_000) + 1) : target.replica)
        if chance(3) {
            let name = pick(["no_such_table", "pg_catalog.pg_authid", "customers; DROP TABLE customers", "customers\u{0}", ""])
            return (Change(id: ChangeID(id()), table: name, record: id(), operation: .write([FieldWrite("name", .text("x"))]), version: version),
                    "unknown table \(name.debugDescription)")
        }
        // Mostly the tables the phone works in (its rows and the rows under them), so that
        // traffic gets past the scope to the access checks and the rules; now and then any table.
        let near = schema.tables.filter { table in
            target.own[table.name]?.isEmpty == false || table.buckets.contains { rule in
                if case .parent(_, let parent) = rule { target.own[parent]?.isEmpty == false } else { false }
            }
        }
        let table = chance(65) && !near.isEmpty ? pick(near) : pick(schema.tables)
        let own = target.own[table.name] ?? []
        let foreign = target.foreign[table.name] ?? []
        let (record, whose): (RecordID, String) = switch random.next() % 3 {
        case 0 where !own.isEmpty: (pick(own), "own")
        case 1 where !foreign.isEmpty: (pick(foreign), "foreign")
        default: (id(), "new")
        }
        if chance(5) {
            return (Change(id: ChangeID(id()), table: table.name, record: record, operation: .delete, version: version), "delete \(whose) \(table.name)")
        }
        var writes: [FieldWrite] = []
        var notes: [String] = []
        // A new row gets most of its fields, so that some pass the schema and reach the rules; a
        // change is wholly plausible, or has one hostile field, or many.
        // (Fields only the server writes are left out mostly, as a phone leaves them out.)
        let fields = whose == "new" ? table.fields.filter { chance($0.access == .serverOnly ? 5 : 90) } : [pick(table.fields)]
        let hostile: Set<String> = switch random.next() % 20 {
        case 0..<8: []
        case 8..<17: fields.isEmpty ? [] : [pick(fields).name]
        default: Set(fields.filter { _ in chance(50) }.map(\.name))
        }
        for field in fields {
            let (value, note) = hostile.contains(field.name) ? value(for: field, target: target, author: version)
                                                             : (plausible(field, target: target, author: version), nil)
            writes.append(FieldWrite(field.name, value, base: chance(50) ? nil : Version(clock: HLC(rawValue: random.next() >> 8), replica: .server)))
            if let note { notes.append("\(field.name) \(note)") }
        }
        if chance(3) {
            writes.append(FieldWrite(pick(["no_such_field", "id", "tenant_id", "_deleted", "status\u{0}"]), .text("x")))
            notes.append("unknown field")
        }
        if writes.isEmpty { writes = [FieldWrite("name", .text("x"))] }
        return (Change(id: ChangeID(id()), table: table.name, record: record, operation: .write(writes), version: version),
                "\(whose) \(table.name): \(notes.isEmpty ? "plausible values" : notes.joined(separator: ", "))")
    }

    /// A hostile value for `field`; the note says which hostility.
    private mutating func value(for field: FieldSchema, target: Target, author: Version) -> (FieldValue, String?) {
        if chance(8) { return (pick([.bool(true), .integer(1), .text("1"), .id(id()), .timestamp(1), .state(StateValue("draft"))]), "of another type") }
        switch field.type {
        case .bool:
            return (.null, "null")
        case .integer, .money, .decimal:
            let bound = field.range ?? FieldType.integerRange
            let number = pick([Int64.min, Int64.max, bound.lowerBound &- 1, bound.upperBound &+ 1, -1, 0, Int64(Int32.max) + 1])
            return (.integer(number), "= \(number)")
        case .timestamp:
            let time = pick([Int64.min, Int64.max, -1, 0, 4_102_444_800_001, 253_402_300_800_000])
            return (.timestamp(time), "at \(time)")
        case .text(let maxLength):
            let texts = ["\u{0}", "a\u{0}b", String(repeating: "é", count: maxLength / 2 + 1), String(repeating: "x", count: maxLength + 1), "NaN", "-Infinity",
                         "'; DROP TABLE customers; --", "\u{202E}gnp.exe", "🧨\u{301}\u{301}\u{301}", ""]
            let text = pick(texts)
            return (.text(text), "text of \(text.utf8.count) bytes\(text.utf8.contains(0) ? " with U+0000" : "")")
        case .reference:
            switch random.next() % 3 {
            case 0: return (.id(id()), "names nothing")
            case 1: return (.id(pick(target.others)), "names another user")
            default:
                let rows = target.foreign.values.flatMap { $0 }
                return (.id(rows.isEmpty ? id() : pick(rows)), "names a foreign row")
            }
        case .blobReference:
            let text = pick([String(repeating: "G", count: 64), String(repeating: "A", count: 64), "abc", String(repeating: "0", count: 65)])
            return (.text(text), "a malformed blob reference")
        case .state(let order):
            let state = chance(30) ? "no_such_state" : pick(order.ranking)
            let epoch = pick([UInt32(0), 1, 2, UInt32.max])
            return (.state(StateValue(state, epoch: epoch)), "→ \(state) (epoch \(epoch))")
        case .counter:
            let contribution = CounterValue.Contribution(total: pick([Int64.max, Int64.min, 5]), clock: author.clock)
            let replica = chance(50) ? author.replica : ReplicaID(author.replica.rawValue &+ 1)
            return (.counter(CounterValue([replica: contribution])), "a counter total of \(contribution.total)")
        }
    }

    /// A value the field could hold: within its range and vocabulary, naming the author where it must.
    private mutating func plausible(_ field: FieldSchema, target: Target, author: Version) -> FieldValue {
        if field.optional, chance(10) { return .null }
        switch field.type {
        case .bool: return .bool(chance(50))
        case .integer, .money, .decimal:
            let range = field.range ?? FieldType.integerRange
            return .integer(range.lowerBound + Int64(random.next() % UInt64(min(range.upperBound - range.lowerBound, 1_000) + 1)))
        case .timestamp: return .timestamp(Int64(author.clock.milliseconds) - Int64(random.next() % 86_400_000))
        case .text(let maxLength):
            if let vocabulary = field.vocabulary { return .text(pick(vocabulary)) }
            return .text(String("hostile traffic \(random.next() % 1_000)".prefix(maxLength)))
        case .reference(let table):
            if table == "users" { return .id(field.author == .none && chance(50) ? pick(target.others) : target.user) }
            let own = target.own[table] ?? []
            return .id(own.isEmpty ? id() : pick(own))
        case .blobReference: return .text(String(repeating: "ab", count: 32))
        case .state(let order): return .state(StateValue(pick(order.ranking)))
        case .counter:
            return .counter(CounterValue([author.replica: .init(total: Int64(random.next() % 10), clock: author.clock)]))
        }
    }
}
