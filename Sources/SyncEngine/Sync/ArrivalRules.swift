public import PostgresDriver
public import SyncCore
public import SyncWire

/// The business rules a push is judged by, plugged into the engine (``SyncStore/init(pool:schema:rules:clock:logger:pushBatchMax:)``).
///
/// The engine knows what a change set is, who may write what, and how records merge, place and
/// log; what a check-in or an order means is the rules' business. The engine calls them twice
/// per change set, inside the push's transaction, and they answer with data:
/// - ``screen(_:states:arrival:on:)`` before the merge: the changes refused into quarantine
///   (they apply nothing);
/// - ``judge(_:original:merged:arrival:on:)`` after the merge: the changes flagged for review,
///   the decisions worth keeping that flag nothing, and the server's consequent writes, which
///   the engine merges, places and logs as a change set of its own.
///
/// The rules read through ``Arrival/reads`` and nothing else: records as they stand in the push,
/// the rows that refer to a record, and SQL that sees every earlier change set of the push. They
/// never lock, write, place or log. The field-sales rules are `FieldRules.FieldSalesRules`.
public protocol ArrivalRules: Sendable {
    /// Called once per push transaction, before its first change set, with every change not
    /// answered before: the rules may read ahead in bulk what they will look up change by
    /// change, and keep it with ``ArrivalReads/memoize(_:_:)``. What they read here is as stored
    /// before the push; the push's own rows are ``ArrivalReads/merged(_:)``.
    func prepare(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws

    /// Called after ``prepare(_:reads:on:)``: the records the rules expect to write as the server's
    /// consequent writes in this push, beyond the records the changes name (a customer's balance
    /// after a payment). The engine locks them with the push and reads each once, instead of
    /// locking and reading one again for every change set that writes it. A record not named
    /// here is still written; it costs its own lock and read.
    func expectedWrites(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws -> [RecordRef]

    /// The rules that refuse, run on the admitted changes of one change set before they merge.
    /// Returns the refusals, in the order of `changes`; every other change goes on to merge.
    ///
    /// - Parameter states: The changes' records as they stand before the change set.
    func screen(_ changes: [Change], states: [String: [RecordID: RecordState]], arrival: Arrival,
                on db: isolated PostgresConnection) async throws -> [Refusal]

    /// The rules that flag, and the server's consequent writes, run after the change set merged.
    ///
    /// - Parameter original: The changes' records before the change set.
    /// - Parameter merged: The same records after it.
    func judge(_ changes: [Change], original: [String: [RecordID: RecordState]], merged: [String: [RecordID: RecordState]], arrival: Arrival,
               on db: isolated PostgresConnection) async throws -> Judgement
}

extension ArrivalRules {
    /// Reads nothing ahead.
    public func prepare(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws {}

    /// Expects no consequent writes.
    public func expectedWrites(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws -> [RecordRef] { [] }
}

/// One change set's arrival, as the rules see it.
public struct Arrival {
    /// Who wrote the change set (`nil` for the server itself).
    public let author: SyncStore.Author?
    /// The replica that wrote it.
    public let replica: ReplicaID
    /// The arrival time, in milliseconds since the epoch.
    public let now: Int64
    /// The push's records and queries, read-only.
    public let reads: any ArrivalReads

    /// The tenant the push belongs to.
    public var tenant: RecordID { reads.tenant }
}

/// The rows of a table that refer to a record through one reference field (the lines of an
/// order, the visits a user has in progress), as ``ArrivalReads/rows(_:where:is:status:on:)``
/// asks for them and ``ArrivalReads/readAhead(_:_:on:)`` reads them ahead.
public struct RelatedRows: Hashable, Sendable {
    /// The referring table (`order_lines`).
    public var table: String
    /// Its reference field (`order_id`).
    public var field: String
    /// Only the rows in this state, when given.
    public var status: String?

    /// The rows of `table` whose reference `field` names a record (and whose status is `status`).
    public init(_ table: String, where field: String, status: String? = nil) {
        self.table = table
        self.field = field
        self.status = status
    }

    /// The key under which a working set remembers whose rows it read.
    var key: String { "\(table).\(field)" + (status.map { " = \($0)" } ?? "") }
}

/// What the rules may read of a push as it is applied: every earlier change set of the push and
/// the server's derived writes are seen, the rows of a table are read once per push.
public protocol ArrivalReads: AnyObject {
    /// The tenant the push belongs to.
    var tenant: RecordID { get }
    /// The schema the records follow.
    var schema: Schema { get }
    /// The states of `ids` in `table` as they stand in the push (absent ids are not in the result).
    func states(_ table: String, _ ids: [RecordID], on db: isolated PostgresConnection) async throws -> [RecordID: RecordState]
    /// The state of one record as it stands in the push.
    func state(_ table: String, _ id: RecordID, on db: isolated PostgresConnection) async throws -> RecordState?
    /// The rows of `table` whose reference `field` names `parent` (and whose status is `status`,
    /// when given), deleted ones included, as they stand in the push.
    func rows(_ table: String, where field: String, is parent: RecordID, status: String?,
              on db: isolated PostgresConnection) async throws -> [RecordID: RecordState]
    /// Reads ahead, in one round trip, the rows of each of `related` for every record of the
    /// reference's target table the push refers to (so that ``rows(_:where:is:status:on:)`` reads
    /// nothing more for those), and runs `statements` (SQL as through ``query(_:_:on:)``) in the
    /// same round trip. Returns the answers to `statements`, in order.
    func readAhead(_ related: [RelatedRows], _ statements: PostgresBatch, on db: isolated PostgresConnection) async throws -> [PostgresRows]
    /// Runs SQL that reads record tables (named after `FROM` and `JOIN`), seeing every earlier
    /// change set of the push.
    func query(_ sql: String, _ values: [any PostgresBindable], on db: isolated PostgresConnection) async throws -> PostgresRows
    /// A new id for a record the server creates in `table`, time-ordered by the server's clock.
    func mint(_ table: String) -> RecordID
    /// The rows of `table` the push has merged so far (the change set being judged included),
    /// as they now stand.
    func merged(_ table: String) -> [RecordID: RecordState]
    /// What the rules kept for the rest of the push under `key` (``memoize(_:_:)``), if anything.
    func memo(_ key: String) -> (any Sendable)?
    /// Keeps `value` under `key` for the rest of the push.
    func memoize(_ key: String, _ value: any Sendable)
}

extension ArrivalReads {
    /// The rows of `table` whose reference `field` names `parent`, deleted ones included.
    public func rows(_ table: String, where field: String, is parent: RecordID, on db: isolated PostgresConnection) async throws -> [RecordID: RecordState] {
        try await rows(table, where: field, is: parent, status: nil, on: db)
    }

    /// The table `name` of the schema; a name the rules use must be in it.
    public func table(_ name: String) -> TableSchema {
        guard let table = schema.table(name) else { preconditionFailure("the rules name a table the schema does not have: \(name)") }
        return table
    }
}

/// A change refused into quarantine: it applies nothing.
public struct Refusal: Sendable {
    /// The change refused.
    public var change: Change
    /// The rule that refused it and why.
    public var finding: RuleFinding
    /// The record as the server holds it, returned with the refusal so the device can show both.
    public var serverState: RecordState?

    /// Creates a refusal.
    public init(_ change: Change, _ finding: RuleFinding, serverState: RecordState?) {
        self.change = change
        self.finding = finding
        self.serverState = serverState
    }
}

/// What the rules decided about a merged change set.
public struct Judgement: Sendable {
    /// A decision that flags nothing, kept in `decisions` (an order confirmed, a customer merged).
    public struct Note: Sendable {
        /// The change it follows from, if any.
        public var change: Change?
        /// The record it is about.
        public var table: String
        /// The record's id.
        public var record: RecordID
        /// The rule and what it found.
        public var finding: RuleFinding

        /// Creates a note.
        public init(change: Change?, table: String, record: RecordID, finding: RuleFinding) {
            self.change = change
            self.table = table
            self.record = record
            self.finding = finding
        }
    }

    /// The changes flagged (`applied_with_exception`) and why, in the order found.
    public var flags: [(change: ChangeID, finding: RuleFinding)] = []
    /// The decisions that flag nothing.
    public var notes: [Note] = []
    /// The server's consequent writes.
    public var derived = DerivedWrites()

    /// An empty judgement.
    public init() {}
}
