import Testing

@testable import SyncCore

@Suite("Schema validation and buckets")
struct SchemaValidationTests {
    static let order = StateOrder(name: "status", ranking: ["open", "done"])
    static let schema = try! Schema(revision: 1, tables: [
        TableSchema(name: "customers", fields: [
            FieldSchema("territory_id", .reference("customers"), optional: true, access: .serverOnly),
        ], buckets: [.field("territory_id", prefix: "territory")]),
        TableSchema(name: "jobs", fields: [
            FieldSchema("customer_id", .reference("customers"), access: WriteAccess(roles: [Role("rep")])),
            FieldSchema("title", .text(maxLength: 10), access: WriteAccess(roles: [Role("rep")])),
            FieldSchema("notes", .text(maxLength: 100), optional: true, access: WriteAccess(roles: [Role("rep")])),
            FieldSchema("status", .state(order), policy: .forwardOnly(order), access: WriteAccess(roles: [Role("rep")])),
            FieldSchema("stock", .counter, policy: .counter, access: WriteAccess(roles: [Role("rep")])),
            FieldSchema("photo", .blobReference, optional: true, access: WriteAccess(roles: [Role("rep")])),
        ], buckets: [.field("id", prefix: "job"), .parent("customer_id", table: "customers"), .constant("all")]),
        TableSchema(name: "events", kind: .appendOnly, fields: [
            FieldSchema("kind", .text(maxLength: 10), policy: .insertOnce, access: WriteAccess(roles: [Role("rep")])),
        ], buckets: [.constant("all")]),
    ])

    static let author = Version(clock: HLC(milliseconds: 10), replica: ReplicaID(3))

    static func change(_ table: String, _ writes: [FieldWrite]) -> Change {
        Change(id: ChangeID(RecordID(high: 1, low: 1)), table: table, record: RecordID(high: 2, low: 2), operation: .write(writes), version: author)
    }

    @Test("a change that fits the schema passes")
    func valid() throws {
        try Self.schema.validate(Self.change("jobs", [
            FieldWrite("title", .text("Fix")), FieldWrite("notes", .null), FieldWrite("status", .state(StateValue("done"))),
            FieldWrite("stock", .counter(CounterValue([ReplicaID(3): .init(total: -2, clock: HLC(milliseconds: 10))]))),
            FieldWrite("photo", .text(String(repeating: "ab", count: 32))),
        ]))
    }

    @Test("each kind of bad change is refused with its own code", arguments: [
        (change("nowhere", [FieldWrite("x", .null)]), ChangeViolation.Code.unknownTable),
        (change("jobs", [FieldWrite("colour", .text("teal"))]), .unknownField),
        (change("jobs", [FieldWrite("title", .text("a")), FieldWrite("title", .text("b"))]), .duplicateField),
        (change("jobs", [FieldWrite("title", .integer(5))]), .wrongType),
        (change("jobs", [FieldWrite("title", .text("far too long a title"))]), .tooLong),
        (change("jobs", [FieldWrite("title", .null)]), .nullNotAllowed),
        (change("jobs", [FieldWrite("status", .state(StateValue("lost")))]), .unknownState),
        (change("jobs", [FieldWrite("stock", .counter(CounterValue([ReplicaID(4): .init(total: 9, clock: HLC(milliseconds: 10))])))]), .foreignContribution),
        (change("jobs", [FieldWrite("photo", .text("not-a-hash"))]), .invalidBlobReference),
        (change("jobs", []), .invalidOperation),
        (Change(id: ChangeID(RecordID(high: 1, low: 1)), table: "events", record: RecordID(high: 2, low: 2), operation: .delete, version: author), .invalidOperation),
    ])
    func invalid(change: Change, code: ChangeViolation.Code) {
        let error = #expect(throws: ChangeViolation.self) { try Self.schema.validate(change) }
        #expect(error?.code == code)
    }

    @Test("a row's buckets follow its fields and its parent's buckets")
    func buckets() throws {
        let territory = RecordID(high: 7, low: 7)
        let customer = RecordID(high: 8, low: 8)
        let job = RecordID(high: 9, low: 9)
        let customers = try #require(Self.schema.table("customers"))
        let jobs = try #require(Self.schema.table("jobs"))
        let customerState = RecordState(fields: ["territory_id": FieldState(value: .id(territory), version: Self.author)])
        let jobState = RecordState(fields: ["customer_id": FieldState(value: .id(customer), version: Self.author)])
        let buckets = jobs.buckets(of: job, state: jobState) { table, id in
            table == "customers" && id == customer ? customers.buckets(of: customer, state: customerState) { _, _ in [] } : []
        }
        #expect(buckets == [Bucket("job", job), Bucket("territory", territory), "all"])
    }

    @Test("a referrers rule places a row in its referrers' buckets, which its children do not inherit")
    func referrers() throws {
        let schema = try Schema(revision: 1, tables: [
            TableSchema(name: "sites", fields: [
                FieldSchema("region_id", .reference("sites"), access: .serverOnly),
            ], buckets: [.field("region_id", prefix: "region"), .referrers("tickets", through: "site_id", field: "engineer_id", prefix: "engineer")]),
            TableSchema(name: "tickets", fields: [
                FieldSchema("site_id", .reference("sites"), access: .serverOnly),
                FieldSchema("engineer_id", .reference("sites"), optional: true, access: .serverOnly),
            ], buckets: [.parent("site_id", table: "sites")]),
        ])
        let site = RecordID(high: 1, low: 1)
        let region = RecordID(high: 2, low: 2)
        let engineer = RecordID(high: 3, low: 3)
        let sites = try #require(schema.table("sites"))
        let siteBuckets = sites.buckets(of: site, state: RecordState(fields: ["region_id": FieldState(value: .id(region), version: Self.author)]),
                                        parentBuckets: { _, _ in [] }, referrers: { table, through, field, id in
                                            table == "tickets" && through == "site_id" && field == "engineer_id" && id == site ? [engineer] : []
                                        })
        #expect(siteBuckets == [Bucket("region", region), Bucket("engineer", engineer)])
        #expect(sites.inheritable(siteBuckets) == [Bucket("region", region)])

        // The referring field must point at the table, and the prefix must be the rule's own.
        #expect(throws: SchemaError.self) {
            try Schema(revision: 1, tables: [
                TableSchema(name: "sites", fields: [], buckets: [.referrers("tickets", through: "engineer_id", field: "engineer_id", prefix: "engineer")]),
                TableSchema(name: "tickets", fields: [FieldSchema("engineer_id", .reference("tickets"), access: .serverOnly)], buckets: []),
            ])
        }
        #expect(throws: SchemaError.self) {
            try Schema(revision: 1, tables: [
                TableSchema(name: "sites", fields: [FieldSchema("owner_id", .reference("sites"), access: .serverOnly)],
                            buckets: [.field("owner_id", prefix: "engineer"), .referrers("tickets", through: "site_id", field: "site_id", prefix: "engineer")]),
                TableSchema(name: "tickets", fields: [FieldSchema("site_id", .reference("sites"), access: .serverOnly)], buckets: []),
            ])
        }
    }
}
