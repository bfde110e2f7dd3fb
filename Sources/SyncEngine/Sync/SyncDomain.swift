public import PostgresDriver
public import SyncCore

/// What the engine is given of a domain: its schema, its rules on arrival, and the three things
/// admission needs that no schema says — whose writes are confined to what they can see, which
/// state moves a role may make, and which buckets a user sees over time.
///
/// The engine knows no table of the domain; everything it does with a record goes through the
/// schema (fields, merge policies, write access, bucket rules) and this. The field-sales domain
/// is `FieldRules.FieldSalesDomain`.
public protocol SyncDomain: Sendable {
    /// The records, their fields and policies, and their bucket rules.
    var schema: Schema { get }
    /// The rules pushes are judged by.
    var rules: any ArrivalRules { get }
    /// The table whose records are the people who write (`users`): a reference to one of them is
    /// judged by the identity rules of the schema, not by the author's buckets.
    var people: String { get }

    /// Whether `role`'s writes are confined to the buckets its users may see at the change's
    /// time (people in the field), rather than reaching the whole tenant (the office).
    func confines(_ role: Role) -> Bool

    /// Whether `role` may move a record whose status follows `order` to `target` from `current`
    /// (`nil`: the record is being created).
    func permits(_ target: StateValue, over current: StateValue?, in order: StateOrder, by role: Role) -> Bool

    /// The buckets `user` sees over time: read once per push for a confined author, and for
    /// every registration and pull.
    func audience(of user: RecordID, role: Role, tenant: RecordID, on db: isolated PostgresConnection) async throws -> Audience
}

/// The buckets a user sees over time: some always, some for the times the user held them (a
/// territory owned from one date to another).
public struct Audience: Sendable {
    /// The buckets the user always sees.
    public var always: Set<Bucket>
    /// Each bucket held for a while, with the time holding it began and ended (`nil`: it has not).
    public var held: [(bucket: Bucket, from: Int64, to: Int64?)]

    /// Creates an audience.
    public init(always: Set<Bucket>, held: [(bucket: Bucket, from: Int64, to: Int64?)] = []) {
        self.always = always
        self.held = held
    }

    /// The buckets the user sees at `milliseconds` since the epoch.
    public func buckets(at milliseconds: Int64) -> Set<Bucket> {
        always.union(held.filter { $0.from <= milliseconds && ($0.to.map { $0 > milliseconds } ?? true) }.map(\.bucket))
    }
}
