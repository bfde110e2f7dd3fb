public import SyncCore

// The wire form of SyncCore's values. Field order here is the binary order: changing it is a
// protocol change (SyncProtocol/encoding.md).

extension Version: WireCodable {
    public func encode(to encoder: inout some WireEncoder) {
        encoder.clock("clock", clock)
        encoder.unsigned("replica", UInt64(replica.rawValue))
    }
    public init(from decoder: inout some WireDecoder) throws(WireError) {
        self.init(clock: try decoder.clock("clock"), replica: ReplicaID(try decoder.unsigned("replica", as: UInt32.self)))
    }
}

extension StateValue: WireCodable {
    public func encode(to encoder: inout some WireEncoder) {
        encoder.string("name", name)
        encoder.unsigned("epoch", UInt64(epoch))
    }
    public init(from decoder: inout some WireDecoder) throws(WireError) {
        self.init(try decoder.name("name", maxBytes: WireLimits.nameBytesMax), epoch: try decoder.unsigned("epoch", as: UInt32.self))
    }
}

/// One replica's contribution to a counter, as it travels.
struct CounterEntry: WireCodable {
    var replica: ReplicaID
    var contribution: CounterValue.Contribution

    func encode(to encoder: inout some WireEncoder) {
        encoder.unsigned("replica", UInt64(replica.rawValue))
        encoder.signed("total", contribution.total)
        encoder.clock("clock", contribution.clock)
    }
    init(replica: ReplicaID, contribution: CounterValue.Contribution) {
        self.replica = replica
        self.contribution = contribution
    }
    init(from decoder: inout some WireDecoder) throws(WireError) {
        replica = ReplicaID(try decoder.unsigned("replica", as: UInt32.self))
        contribution = CounterValue.Contribution(total: try decoder.signed("total"), clock: try decoder.clock("clock"))
    }
}

extension FieldValue: WireCodable {
    static let kinds = ["null", "bool", "integer", "text", "id", "timestamp", "state", "counter"]

    public func encode(to encoder: inout some WireEncoder) {
        switch self {
        case .null: encoder.tag("kind", 0, labels: Self.kinds)
        case .bool(let value): encoder.tag("kind", 1, labels: Self.kinds); encoder.bool("value", value)
        case .integer(let value): encoder.tag("kind", 2, labels: Self.kinds); encoder.signed("value", value)
        case .text(let value): encoder.tag("kind", 3, labels: Self.kinds); encoder.string("value", value)
        case .id(let value): encoder.tag("kind", 4, labels: Self.kinds); encoder.id("value", value)
        case .timestamp(let value): encoder.tag("kind", 5, labels: Self.kinds); encoder.signed("value", value)
        case .state(let value): encoder.tag("kind", 6, labels: Self.kinds); encoder.object("value", value)
        case .counter(let value):
            encoder.tag("kind", 7, labels: Self.kinds)
            // Sorted by replica, so that a counter has one encoding.
            let entries = value.contributions.sorted { $0.key < $1.key }.map { CounterEntry(replica: $0.key, contribution: $0.value) }
            encoder.objects("value", entries)
        }
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        switch try decoder.tag("kind", labels: Self.kinds) {
        case 0: self = .null
        case 1: self = .bool(try decoder.bool("value"))
        case 2: self = .integer(try decoder.signed("value"))
        case 3: self = .text(try decoder.string("value", maxBytes: WireLimits.textBytesMax))
        case 4: self = .id(try decoder.id("value"))
        case 5: self = .timestamp(try decoder.signed("value"))
        case 6: self = .state(try decoder.object("value", as: StateValue.self))
        default:
            let entries = try decoder.objects("value", as: CounterEntry.self, max: WireLimits.counterContributionsMax)
            var contributions: [ReplicaID: CounterValue.Contribution] = [:]
            for entry in entries {
                guard contributions.updateValue(entry.contribution, forKey: entry.replica) == nil else {
                    throw WireError(.malformed, "a counter lists replica \(entry.replica) twice")
                }
            }
            self = .counter(CounterValue(contributions))
        }
    }
}

extension FieldWrite: WireCodable {
    public func encode(to encoder: inout some WireEncoder) {
        encoder.string("field", field)
        encoder.object("value", value)
        encoder.optionalObject("base", base)
    }
    public init(from decoder: inout some WireDecoder) throws(WireError) {
        self.init(
            try decoder.name("field", maxBytes: WireLimits.nameBytesMax),
            try decoder.object("value", as: FieldValue.self),
            base: try decoder.optionalObject("base", as: Version.self)
        )
    }
}

extension Change: WireCodable {
    static let operations = ["write", "delete"]

    public func encode(to encoder: inout some WireEncoder) {
        encoder.id("id", id.uuid)
        encoder.string("table", table)
        encoder.id("record", record)
        encoder.object("version", version)
        switch operation {
        case .write(let writes):
            encoder.tag("operation", 0, labels: Self.operations)
            encoder.objects("fields", writes)
        case .delete:
            encoder.tag("operation", 1, labels: Self.operations)
        }
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        let id = ChangeID(try decoder.id("id"))
        let table = try decoder.name("table", maxBytes: WireLimits.nameBytesMax)
        let record = try decoder.id("record")
        let version = try decoder.object("version", as: Version.self)
        let operation: Operation
        switch try decoder.tag("operation", labels: Self.operations) {
        case 0: operation = .write(try decoder.objects("fields", as: FieldWrite.self, max: WireLimits.fieldsPerChangeMax))
        default: operation = .delete
        }
        self.init(id: id, table: table, record: record, operation: operation, version: version)
    }
}

extension ChangeSet: WireCodable {
    public func encode(to encoder: inout some WireEncoder) {
        encoder.id("id", id.uuid)
        encoder.objects("changes", changes)
    }
    public init(from decoder: inout some WireDecoder) throws(WireError) {
        self.init(id: ChangeID(try decoder.id("id")), changes: try decoder.objects("changes", as: Change.self, max: WireLimits.changesPerPushMax))
    }
}

extension FieldState: WireCodable {
    public func encode(to encoder: inout some WireEncoder) {
        encoder.object("value", value)
        encoder.object("version", version)
    }
    public init(from decoder: inout some WireDecoder) throws(WireError) {
        self.init(value: try decoder.object("value", as: FieldValue.self), version: try decoder.object("version", as: Version.self))
    }
}

/// A named field state, as record states travel (fields sorted by name, one encoding per state).
struct NamedFieldState: WireCodable {
    var name: String
    var state: FieldState

    init(name: String, state: FieldState) {
        self.name = name
        self.state = state
    }
    func encode(to encoder: inout some WireEncoder) {
        encoder.string("name", name)
        encoder.object("state", state)
    }
    init(from decoder: inout some WireDecoder) throws(WireError) {
        name = try decoder.name("name", maxBytes: WireLimits.nameBytesMax)
        state = try decoder.object("state", as: FieldState.self)
    }
}

extension RecordState: WireCodable {
    public func encode(to encoder: inout some WireEncoder) {
        encoder.objects("fields", fields.sorted { $0.key < $1.key }.map { NamedFieldState(name: $0.key, state: $0.value) })
        encoder.optionalObject("tombstone", tombstone)
    }
    public init(from decoder: inout some WireDecoder) throws(WireError) {
        var fields: [String: FieldState] = [:]
        for named in try decoder.objects("fields", as: NamedFieldState.self, max: WireLimits.fieldsPerChangeMax) {
            guard fields.updateValue(named.state, forKey: named.name) == nil else {
                throw WireError(.malformed, "a record state lists field \(named.name) twice")
            }
        }
        self.init(fields: fields, tombstone: try decoder.optionalObject("tombstone", as: Version.self))
    }
}
