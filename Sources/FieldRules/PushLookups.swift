import PostgresDriver
import SyncCore
import SyncEngine

/// What the rules would otherwise read on first use, change set by change set, read ahead for
/// the whole push in one round trip (``ArrivalReads/readAhead(_:_:on:)``): the rows that refer to
/// the push's records (the visits a user has in progress, a visit's tasks and events, a
/// customer's orders, an order's lines and payments) and the tenant's settings (the geofence
/// radius, the price lists, the discount policies).
///
/// The related rows are kept by the push's working set, so ``ArrivalReads/rows(_:where:is:status:on:)``
/// finds them as if it had read them itself. A setting (read ahead, or read by a rule on first
/// use and kept) is used only while the push has not written its table; after that the rule asks
/// PostgreSQL again, so the answer is always what a query after every earlier change set of the
/// push would give.
struct PushLookups: Sendable {
    /// The tenant's geofence radius in metres, if set (§4.1).
    var geofenceRadius: Int64??
    /// The tenant's price lists with their terms (§4.7).
    var priceLists: [RecordID: ArrivalJudge.PriceListTerms]?
    /// Each role's discount maximum in basis points: the first policy by id (§4.8).
    var discountMax: [String: Int64?]?

    static let key = "field_rules.push"

    static let geofenceSQL = "SELECT geofence_radius_m FROM tenants WHERE tenant_id = $1 AND NOT _deleted LIMIT 1"
    static let priceListsSQL = """
        SELECT id::text, customer_group, valid_from, valid_to, coalesce(is_default, false), coalesce(currency, 'USD'), coalesce(tax_inclusive, false)
        FROM price_lists WHERE tenant_id = $1 AND NOT _deleted
        """
    /// Every role's policy: the first by id.
    static let discountPoliciesSQL = """
        SELECT DISTINCT ON (role) role, discount_max_bp FROM discount_policies WHERE tenant_id = $1 AND role IS NOT NULL AND NOT _deleted ORDER BY role, id
        """

    /// Reads ahead what `changes` will make the rules look up, and keeps it in the push's memo.
    static func prepare(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws {
        let tables = Set(changes.map(\.table))
        let visits = !tables.isDisjoint(with: ["visits", "geo_events"])
        let orders = !tables.isDisjoint(with: ["sales_orders", "order_lines", "payments"])
        guard visits || orders else { return }
        var related: [RelatedRows] = []
        var settings = PostgresBatch()
        if visits {
            related += [RelatedRows("visits", where: "executed_by", status: "in_progress"), RelatedRows("geo_events", where: "visit_id"),
                        RelatedRows("visit_tasks", where: "visit_id")]
            settings.add(geofenceSQL, [reads.tenant.uuidString])
        }
        if orders {
            related += [RelatedRows("sales_orders", where: "customer_id"), RelatedRows("order_lines", where: "order_id"), RelatedRows("payments", where: "order_id")]
            settings.add(priceListsSQL, [reads.tenant.uuidString])
            settings.add(discountPoliciesSQL, [reads.tenant.uuidString])
        }
        var answers = try await reads.readAhead(related, settings, on: db)[...]
        var lookups = PushLookups()
        if visits { lookups.geofenceRadius = .some(try geofenceRadius(answers.removeFirst())) }
        if orders {
            lookups.priceLists = try ArrivalJudge.PriceListTerms.lists(answers.removeFirst())
            lookups.discountMax = try discountMax(answers.removeFirst())
        }
        reads.memoize(key, lookups)
    }

    /// What the push read of a setting in `table` (ahead, or on first use), while the push has
    /// not written `table`: after a write, a rule reads the setting again.
    static func known(unless table: String, reads: any ArrivalReads) -> PushLookups {
        guard reads.merged(table).isEmpty else { return PushLookups() }
        return reads.memo(key) as? PushLookups ?? PushLookups()
    }

    /// Keeps a setting a rule read on first use for the rest of the push.
    static func keep(_ reads: any ArrivalReads, _ update: (inout PushLookups) -> Void) {
        var lookups = reads.memo(key) as? PushLookups ?? PushLookups()
        update(&lookups)
        reads.memoize(key, lookups)
    }

    /// The radius in the answer to ``geofenceSQL``.
    static func geofenceRadius(_ rows: PostgresRows) throws -> Int64? { try rows.first?.read(0, as: Int64?.self) }

    /// Each role's maximum in the answer to ``discountPoliciesSQL``.
    static func discountMax(_ rows: PostgresRows) throws -> [String: Int64?] {
        var policies: [String: Int64?] = [:]
        for row in rows { policies[try row.read(0, as: String.self)] = .some(try row.read(1, as: Int64?.self)) }
        return policies
    }
}
