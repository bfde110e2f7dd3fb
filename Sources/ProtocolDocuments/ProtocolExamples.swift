public import DemoData
public import Foundation
import FieldModel
import SyncCore
public import SyncWire

/// One example of every protocol message, written to `Fixtures/protocol/` as golden frames
/// (`<name>.bin`, uncompressed) and their JSON form (`<name>.json`). Any implementation must
/// decode each `.bin` to the message its `.json` shows, and encode it back to the same bytes.
public enum ProtocolExamples {
    static func id(_ n: UInt64) -> RecordID { RecordID(high: 0x019A_C3F0_0000_7000 | n, low: 0x8000_0000_0000_0000 | n) }
    static let rep = ReplicaID(17)
    static func version(_ milliseconds: UInt64, _ counter: UInt16 = 0, _ replica: ReplicaID = rep) -> Version {
        Version(clock: HLC(milliseconds: milliseconds, counter: counter), replica: replica)
    }

    static let visit = id(1)
    static let checkOut = id(2)
    static let order = id(3)

    /// "Complete visit": the check-out, the visit's status and end, a task result and the order's submission.
    static let completeVisit = ChangeSet(id: ChangeID(id(10)), changes: [
        Change(id: ChangeID(id(11)), table: "geo_events", record: checkOut, operation: .write([
            FieldWrite("visit_id", .id(visit)),
            FieldWrite("kind", .text("check_out")),
            FieldWrite("device_time", .timestamp(1_764_515_400_000)),
            FieldWrite("latitude_e6", .integer(40_757_286)),
            FieldWrite("longitude_e6", .integer(-73_992_083)),
            FieldWrite("accuracy_m", .integer(12)),
            FieldWrite("mock_location", .bool(false)),
        ]), version: version(1_764_515_400_000)),
        Change(id: ChangeID(id(12)), table: "visits", record: visit, operation: .write([
            FieldWrite("status", .state(StateValue("completed")), base: version(1_764_513_000_000, 0, rep)),
            FieldWrite("actual_end", .timestamp(1_764_515_400_000), base: nil),
        ]), version: version(1_764_515_400_000, 1)),
        Change(id: ChangeID(id(13)), table: "sales_orders", record: order, operation: .write([
            FieldWrite("status", .state(StateValue("submitted")), base: version(1_764_514_000_000)),
            FieldWrite("device_total_minor", .integer(65_000)),
        ]), version: version(1_764_515_400_000, 2)),
        Change(id: ChangeID(id(14)), table: "stock_levels", record: id(4), operation: .write([
            FieldWrite("quantity", .counter(CounterValue([rep: .init(total: -3, clock: HLC(milliseconds: 1_764_515_400_000, counter: 3))]))),
        ]), version: version(1_764_515_400_000, 3)),
        Change(id: ChangeID(id(15)), table: "contacts", record: id(5), operation: .delete, version: version(1_764_515_400_000, 4)),
    ])

    static let serverState = RecordState(fields: [
        "status": FieldState(value: .state(StateValue("confirmed")), version: version(1_764_515_000_000, 0, .server)),
        "total_minor": FieldState(value: .integer(64_990), version: version(1_764_515_000_000, 0, .server)),
    ])

    /// The generation the example server answers in.
    static let generation = Generation(rawValue: "5f0c6a4e2b9d47e1a38c0d2f6b7e9a14")!

    /// A device registering again after the server's database was restored: it asks for its number back.
    static let registerAgain = RegisterRequest(installation: id(100), appVersion: "1.0.0", platform: "fieldsim", schemaRevision: 1, previousReplica: ReplicaID(17))

    /// The examples, by file name.
    public static let all: [(name: String, message: Message)] = [
        ("register_request", .registerRequest(RegisterRequest(installation: id(100), appVersion: "1.0.0", platform: "fieldsim", schemaRevision: 1))),
        ("register_again_request", .registerRequest(registerAgain)),
        ("register_response", .registerResponse(RegisterResponse(replica: rep, serverClock: HLC(milliseconds: 1_764_512_000_000, counter: 7),
                                                                  buckets: [.catalog, .territory(id(200)), .personal(id(201))], generation: generation))),
        ("push_request", .pushRequest(PushRequest(batch: id(300), changeSets: [completeVisit]))),
        ("push_response", .pushResponse(PushResponse(batch: id(300), serverClock: HLC(milliseconds: 1_764_515_401_000), outcomes: [
            ChangeOutcome(change: ChangeID(id(11)), result: .appliedWithException,
                          findings: [Finding(rule: "outside_geofence", message: "412 m from the store; the radius is 200 m and the fix's accuracy 12 m")]),
            ChangeOutcome(change: ChangeID(id(12)), result: .applied),
            ChangeOutcome(change: ChangeID(id(13)), result: .rejected, reason: "order_locked", serverState: serverState),
            ChangeOutcome(change: ChangeID(id(14)), result: .applied),
            ChangeOutcome(change: ChangeID(id(15)), result: .applied),
        ]))),
        ("pull_request", .pullRequest(PullRequest(cursors: [
            BucketCursor(bucket: .catalog, sequence: 0), BucketCursor(bucket: .territory(id(200)), sequence: 4_211),
        ], recordsMax: 2_000, replica: ReplicaID(7)))),
        ("pull_response", .pullResponse(PullResponse(serverClock: HLC(milliseconds: 1_764_515_402_000), pages: [
            BucketPage(bucket: .territory(id(200)), kind: .changes, changeSets: [completeVisit],
                       removes: [RecordRef(table: "customers", record: id(6))], cursor: 4_212, hasMore: false),
            BucketPage(bucket: .catalog, kind: .snapshot, snapshots: [RecordSnapshot(ref: RecordRef(table: "sales_orders", record: order), state: serverState)],
                       cursor: 9_001, hasMore: true),
        ], bucketsChanged: true, reprime: [], generation: generation))),
        ("fetch_request", .fetchRequest(FetchRequest(refs: [RecordRef(table: "sales_orders", record: order), RecordRef(table: "visits", record: id(7))]))),
        ("fetch_response", .fetchResponse(FetchResponse(snapshots: [RecordSnapshot(ref: RecordRef(table: "sales_orders", record: order), state: serverState)],
                                                        missing: [RecordRef(table: "visits", record: id(7))]))),
        ("live_notice", .liveNotice(LiveNotice(buckets: [.personal(id(201))], serverClock: HLC(milliseconds: 1_764_515_403_000)))),
        ("error_clock_ahead", .error(ErrorResponse(code: ErrorResponse.Code.clockAhead,
                                                   message: "the device's clock is 3 days ahead of the server's: rewind to server_clock, re-stamp unacknowledged changes and push again",
                                                   serverClock: HLC(milliseconds: 1_764_515_404_000)))),
        ("error_rate_limited", .error(ErrorResponse(code: ErrorResponse.Code.rateLimited, message: "too many requests", retryAfterMilliseconds: 1_500))),
        ("error_replica_unknown", .error(ErrorResponse(code: ErrorResponse.Code.replicaUnknown,
                                                       message: "this server holds no device 17: register again with previous_replica, then push again"))),
    ]

    /// Writes every example to `directory` as `<name>.bin` and `<name>.json`.
    public static func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, message) in all {
            try Data(try Frame.encode(message, compress: false)).write(to: directory.appendingPathComponent("\(name).bin"))
            try Data(Frame.json(message).printed.utf8).write(to: directory.appendingPathComponent("\(name).json"))
        }
    }
}

extension Fixtures {
    /// The golden protocol messages, `Fixtures/protocol/`.
    public static var protocolMessages: URL { directory.appendingPathComponent("protocol") }
}
