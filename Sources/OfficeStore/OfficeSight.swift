public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// What an office user may see (DOMAIN.md §1): an admin the whole tenant; a manager their team
/// (their subtree of users); a dispatcher their region, the territories they own (in
/// `territory_owners`, as a rep owns theirs), or the whole tenant when they own none.
extension SyncStore {
    /// What an office user may see: every row of the tenant, or only some people's or some territories'.
    public struct OfficeSight: Sendable, Hashable {
        /// A manager's team: only rows these users hold (`nil`: not limited by people).
        public var team: [RecordID]?
        /// A dispatcher's territories: only rows of customers in these (`nil`: not limited by territory).
        public var territories: [RecordID]?
        /// The people a dispatcher's territories belong to now (their owners), for what is only
        /// tied to a person (a phone); `nil` when not limited by territory.
        public var owners: [RecordID]?

        /// The whole tenant.
        public static let tenant = OfficeSight()

        /// Whether the sight is the whole tenant.
        public var isTenant: Bool { team == nil && territories == nil }

        /// The people whose rows the caller sees: the team, or the territories' owners; `nil` for everyone.
        public var people: [RecordID]? { team ?? owners }
    }

    /// What `office` may see as of `now` (ms).
    public func sight(of office: OfficeUser, now: Int64) async throws -> OfficeSight {
        switch office.role {
        case .manager:
            return OfficeSight(team: try await team(of: office).map(\.user))
        case .dispatcher:
            let territories = try await pool.query("""
                SELECT DISTINCT territory_id::text FROM territory_owners
                WHERE tenant_id = $1 AND user_id = $2::uuid AND NOT _deleted AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)
                """, [office.tenant.uuidString, office.user.uuidString, now]).compactMap { RecordID(try $0.read(0, as: String.self)) }
            guard !territories.isEmpty else { return .tenant }
            let owners = try await pool.query("""
                SELECT DISTINCT user_id::text FROM territory_owners
                WHERE tenant_id = $1 AND territory_id = ANY($2::uuid[]) AND user_id <> $3::uuid AND NOT _deleted
                  AND valid_from <= $4 AND (valid_to IS NULL OR valid_to > $4)
                """, [office.tenant.uuidString, PostgresArray.literal(territories), office.user.uuidString, now])
                .compactMap { RecordID(try $0.read(0, as: String.self)) }
            return OfficeSight(territories: territories, owners: owners)
        default:
            return .tenant
        }
    }

    /// What `office` may see now, by the store's clock.
    func sight(of office: OfficeUser) async throws -> OfficeSight {
        try await sight(of: office, now: Int64(clock.milliseconds))
    }

    /// A SQL condition: the customer `column` names is in the territories the array parameter
    /// `parameter` (`$n`, uuid[]) holds; `$1` is the tenant.
    static func customerIn(_ column: String, territories parameter: String) -> String {
        "EXISTS (SELECT 1 FROM customers sight_c WHERE sight_c.tenant_id = $1 AND sight_c.id = \(column) AND sight_c.territory_id = ANY(\(parameter)::uuid[]))"
    }

    /// The customer of a visit or work order, as stored (its column, not its merge state).
    func customer(of table: String, _ id: RecordID, tenant: RecordID) async throws -> RecordID? {
        try await pool.query("SELECT customer_id::text FROM \(table) WHERE tenant_id = $1 AND id = $2::uuid", [tenant.uuidString, id.uuidString])
            .first.flatMap { try $0.read(0, as: String?.self) }.flatMap { RecordID($0) }
    }

    /// Checks that the customer is in a territorial dispatcher's territories (anyone else passes).
    ///
    /// - Throws: ``OfficeError/Code/forbidden`` for a customer outside them.
    func requireInSight(customer: RecordID?, of office: OfficeUser) async throws {
        guard office.role == .dispatcher else { return }
        let sight = try await sight(of: office)
        guard let territories = sight.territories else { return }
        let inside = try await pool.query("SELECT 1 FROM customers WHERE tenant_id = $1 AND id::text = $2 AND territory_id = ANY($3::uuid[])",
                                          [office.tenant.uuidString, customer?.uuidString ?? "", PostgresArray.literal(territories)])
        guard !inside.isEmpty else { throw OfficeError(.forbidden, "the customer is outside your territories") }
    }

    /// The tables whose records belong to a customer, and how to reach it: directly (`column` is
    /// the customer), or through a parent (`column` names the parent in `parent`).
    static let customerPaths: [(table: String, column: String, parent: String?)] = [
        ("visits", "customer_id", nil), ("work_orders", "customer_id", nil), ("sales_orders", "customer_id", nil),
        ("contact_records", "customer_id", nil), ("contacts", "customer_id", nil), ("assets", "customer_id", nil),
        ("geo_events", "visit_id", "visits"), ("visit_tasks", "visit_id", "visits"), ("shelf_stock_counts", "visit_id", "visits"),
        ("order_lines", "order_id", "sales_orders"), ("payments", "order_id", "sales_orders"), ("parts_used", "work_order_id", "work_orders"),
        ("manager_comments", "contact_record_id", "contact_records"), ("quotes", "customer_id", nil), ("quote_lines", "quote_id", "quotes"),
    ]

    /// A SQL condition: the record `record` of the table `table` names (columns of the outer row)
    /// belongs to a customer in the territories of the array parameter `parameter`; `$1` is the
    /// tenant. A record of no customer (a product, a stock level) is in no territory.
    static func recordIn(table: String, record: String, territories parameter: String) -> String {
        let cases = customerPaths.map { path in
            let customer = path.parent.map { parent in
                "(SELECT p.customer_id FROM \(path.table) x JOIN \(parent) p ON p.tenant_id = x.tenant_id AND p.id = x.\(path.column) WHERE x.tenant_id = $1 AND x.id = \(record))"
            } ?? "(SELECT x.\(path.column) FROM \(path.table) x WHERE x.tenant_id = $1 AND x.id = \(record))"
            return "WHEN '\(path.table)' THEN \(customer)"
        }
        return customerIn("(CASE \(table) WHEN 'customers' THEN \(record) \(cases.joined(separator: " ")) END)", territories: parameter)
    }
}
