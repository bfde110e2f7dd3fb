import FieldModel
public import PostgresDriver
public import SyncCore
public import SyncEngine

/// The field-sales and field-service domain as the push engine takes it:
/// `SyncStore(pool:domain: FieldSalesDomain())`.
///
/// - Schema: ``FieldSalesSchema`` (every record, field, policy, write access and bucket rule).
/// - Rules: ``FieldSalesRules``.
/// - Reach: reps and technicians write only inside the buckets they see at the change's time;
///   dispatchers, managers and admins reach the whole tenant.
/// - State moves: the lifecycles of ``Lifecycles`` (who may move a visit, an order or a work order
///   from where to where).
/// - Audience: every user sees `catalog` and their own `user:` bucket; a rep or technician sees
///   each territory for the times they owned it (`territory_owners`); the office sees every
///   territory and its `team:` bucket.
public struct FieldSalesDomain: SyncDomain {
    /// The domain.
    public init() {}

    public var schema: Schema { FieldSalesSchema.schema }
    public var rules: any ArrivalRules { FieldSalesRules() }
    public var people: String { "users" }

    public func confines(_ role: Role) -> Bool { Self.confines(role) }

    /// Whether `role` works in the field, confined to what it sees (reps and technicians).
    static func confines(_ role: Role) -> Bool { role == .rep || role == .technician }

    public func permits(_ target: StateValue, over current: StateValue?, in order: StateOrder, by role: Role) -> Bool {
        guard let machine = Lifecycles.machine(order) else { return true }
        return machine.permits(target, over: current, by: role)
    }

    public func audience(of user: RecordID, role: Role, tenant: RecordID, on db: isolated PostgresConnection) async throws -> Audience {
        var always: Set<Bucket> = [.catalog, .personal(user)]
        guard confines(role) else {
            let territories = try await db.query("SELECT id::text FROM territories WHERE tenant_id = $1 AND NOT _deleted", [tenant.uuidString])
            always.insert(.team(user))
            for row in territories { always.insert(.territory(try row.read(0, as: RecordID.self))) }
            return Audience(always: always)
        }
        let owned = try await db.query("SELECT territory_id::text, valid_from, valid_to FROM territory_owners WHERE tenant_id = $1 AND user_id = $2 AND NOT _deleted",
                                       [tenant.uuidString, user.uuidString])
        return Audience(always: always, held: try owned.compactMap { row in
            guard let territory = try row.read(0, as: String?.self).flatMap({ RecordID($0) }) else { return nil }
            return (.territory(territory), try row.read(1, as: Int64?.self) ?? .max, try row.read(2, as: Int64?.self))
        })
    }
}
