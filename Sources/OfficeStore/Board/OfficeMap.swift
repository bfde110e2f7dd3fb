public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// The map of a day: the stores visited or serviced, with their geofence, and where each check-in
/// and check-out happened (drawn by the console from the coordinates; no tile server is needed).
extension SyncStore {
    /// A store on the map, with what was planned there in the period.
    public struct MapStore: Sendable, Hashable {
        /// The customer and its name.
        public var customer: RecordID, name: String
        /// Where it is (millionths of a degree) and its geofence radius in metres (its own, else the tenant's).
        public var latitudeE6: Int64?, longitudeE6: Int64?, geofenceRadiusM: Int64?
        /// The visits planned there.
        public var visits: [MapVisit]
    }

    /// A visit planned at a store on the map.
    public struct MapVisit: Sendable, Hashable {
        /// The visit, its status and its assignee.
        public var visit: RecordID, status: String, assignee: RecordID?
    }

    /// A located event of a visit: a check-in or check-out with where it happened and how the server judged it.
    public struct MapFix: Sendable, Hashable {
        /// The event, its visit, the visit's store and who made it.
        public var id: RecordID, visit: RecordID, customer: RecordID, user: RecordID?, userName: String?
        /// `check_in`, `check_out` or `cancel`, and the phone's time of it (ms since the epoch).
        public var kind: String, deviceTime: Int64?
        /// Where (millionths of a degree), how accurate (metres), and whether the phone said the location was mocked.
        public var latitudeE6: Int64?, longitudeE6: Int64?, accuracyM: Int64?, mockLocation: Bool?
        /// The server's distance to the store (metres) and its verification (`verified`, `outside_radius`, `unverified`, `suspicious`).
        public var distanceM: Int64?, verification: String?
    }

    /// The day's map: the stores of the visits planned between `start` and `end` (ms), and where
    /// their check-ins and check-outs happened; only `user`'s when given; a manager's team's, a
    /// dispatcher's territories'.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for a period that is empty or longer than ``boardDaysMax`` days.
    public func map(from start: Int64, to end: Int64, user: RecordID? = nil, by office: OfficeUser) async throws -> (stores: [MapStore], fixes: [MapFix]) {
        guard start < end, end - start <= Int64(Self.boardDaysMax) * 86_400_000 else {
            throw OfficeError(.invalid, "a map shows 1 to \(Self.boardDaysMax) days")
        }
        let sight = try await sight(of: office)
        // The visits in view: the period's, the user's, the team's.
        let visits = """
            SELECT v.id, v.customer_id, v.status, v.assignee_id FROM visits v
            WHERE v.tenant_id = $1 AND NOT v._deleted AND v.planned_start >= $2 AND v.planned_start < $3
              AND ($4 = '' OR v.assignee_id::text = $4) AND (NOT $5 OR v.assignee_id = ANY($6::uuid[]))
              AND (NOT $7 OR \(Self.customerIn("v.customer_id", territories: "$8")))
            """
        let values: [any PostgresBindable] = [office.tenant.uuidString, start, end, user?.uuidString ?? "", sight.team != nil, PostgresArray.literal(sight.team ?? []),
                                              sight.territories != nil, PostgresArray.literal(sight.territories ?? [])]
        var stores: [RecordID: MapStore] = [:]
        var order: [RecordID] = []
        for row in try await pool.query("""
            WITH shown AS (\(visits))
            SELECT c.id::text, coalesce(c.name, ''), c.latitude_e6, c.longitude_e6, coalesce(c.geofence_radius_m, n.geofence_radius_m),
                   s.id::text, coalesce(s.status, 'planned'), s.assignee_id::text
            FROM shown s JOIN customers c ON c.tenant_id = $1 AND c.id = s.customer_id
            LEFT JOIN tenants n ON n.tenant_id = c.tenant_id AND n.id = c.tenant_id
            ORDER BY coalesce(c.name, ''), c.id, s.id
            """, values) {
            let customer = try row.read(0, as: RecordID.self)
            if stores[customer] == nil {
                order.append(customer)
                stores[customer] = MapStore(customer: customer, name: try row.read(1, as: String.self), latitudeE6: try row.read(2, as: Int64?.self),
                                            longitudeE6: try row.read(3, as: Int64?.self), geofenceRadiusM: try row.read(4, as: Int64?.self), visits: [])
            }
            stores[customer]!.visits.append(MapVisit(visit: try row.read(5, as: RecordID.self), status: try row.read(6, as: String.self),
                                                     assignee: try row.read(7, as: String?.self).flatMap { RecordID($0) }))
        }
        let fixes = try await pool.query("""
            WITH shown AS (\(visits))
            SELECT g.id::text, g.visit_id::text, s.customer_id::text, g.user_id::text, u.name, coalesce(g.kind, ''), g.device_time,
                   g.latitude_e6, g.longitude_e6, g.accuracy_m, g.mock_location, g.distance_m, g.verification
            FROM geo_events g JOIN shown s ON s.id = g.visit_id
            LEFT JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id
            WHERE g.tenant_id = $1 AND NOT g._deleted
            ORDER BY g.device_time NULLS LAST, g.id
            """, values).map { row in
            MapFix(id: try row.read(0, as: RecordID.self), visit: try row.read(1, as: RecordID.self),
                   customer: try row.read(2, as: RecordID.self), user: try row.read(3, as: String?.self).flatMap { RecordID($0) },
                   userName: try row.read(4, as: String?.self), kind: try row.read(5, as: String.self), deviceTime: try row.read(6, as: Int64?.self),
                   latitudeE6: try row.read(7, as: Int64?.self), longitudeE6: try row.read(8, as: Int64?.self), accuracyM: try row.read(9, as: Int64?.self),
                   mockLocation: try row.read(10, as: Bool?.self), distanceM: try row.read(11, as: Int64?.self), verification: try row.read(12, as: String?.self))
        }
        return (order.map { stores[$0]! }, fixes)
    }
}
