import FieldModel
import PostgresDriver
import SyncCore
import SyncEngine

/// What the check-in rules (§4.1–4.2) look up, read ahead once per push for every check-in it
/// creates: the user's previous located check-in elsewhere (for travel speed), and whether
/// another store's check-in was stored at exactly its coordinates. Each is one bounded probe per
/// check-in (`LIMIT 1`, `EXISTS`): a popular spot's thousands of check-ins are never read.
///
/// Both are read as stored before the push; the judge adds the push's own check-ins
/// (``ArrivalReads/merged(_:)``), so the answer is what a query after every earlier change set
/// of the push would give. A check-in the read-ahead did not see (its fields came from an
/// earlier write of the same record) is looked up on its own, as before.
struct CheckInLookups: Sendable {
    /// A check-in's question about travel: who, at which visit, when.
    struct Trip: Hashable, Sendable {
        var user: RecordID
        var visit: RecordID
        var time: Int64
    }

    /// A check-in's question about its spot: another store's check-in at exactly these
    /// coordinates, other than this event, at a visit of another customer than this one.
    struct Spot: Hashable, Sendable {
        var coordinate: Coordinate
        var event: RecordID
        var customer: RecordID
    }

    /// For each trip asked, the latest stored located check-in before it elsewhere (`nil`: none).
    var previous: [Trip: Geofence.Fix?] = [:]
    /// For each spot asked, whether a stored check-in answers yes.
    var twins: [Spot: Bool] = [:]

    static let key = "field_rules.check_ins"

    /// Reads ahead for every check-in `changes` create, and keeps the answers in the push's memo.
    static func prepare(_ changes: [Change], reads: any ArrivalReads, on db: isolated PostgresConnection) async throws {
        var trips: [Trip] = []
        var asked: [(coordinate: Coordinate, event: RecordID, visit: RecordID)] = []
        for change in changes where change.table == "geo_events" && change.written("kind") == .text("check_in") {
            guard case .id(let user)? = change.written("user_id"), case .id(let visit)? = change.written("visit_id") else { continue }
            guard case .timestamp(let time)? = change.written("device_time") else { continue }
            trips.append(Trip(user: user, visit: visit, time: time))
            asked.append((coordinate(latitude: change.written("latitude_e6"), longitude: change.written("longitude_e6")), change.record, visit))
        }
        guard !trips.isEmpty else { return }
        var lookups = CheckInLookups()
        let rows = try await reads.query("""
            SELECT q.i, g.latitude_e6, g.longitude_e6, g.accuracy_m, g.device_time
            FROM unnest($2::uuid[], $3::uuid[], $4::bigint[]) WITH ORDINALITY AS q(u, v, t, i)
            CROSS JOIN LATERAL (
                SELECT latitude_e6, longitude_e6, accuracy_m, device_time FROM geo_events
                WHERE tenant_id = $1 AND user_id = q.u AND kind = 'check_in' AND visit_id <> q.v AND device_time < q.t
                  AND latitude_e6 IS NOT NULL AND longitude_e6 IS NOT NULL
                ORDER BY device_time DESC LIMIT 1) g
            """, [reads.tenant.uuidString, PostgresArray.literal(trips.map(\.user)), PostgresArray.literal(trips.map(\.visit)),
                  "{" + trips.map { String($0.time) }.joined(separator: ",") + "}"], on: db)
        for trip in trips { lookups.previous[trip] = .some(nil) }
        for row in rows {
            let trip = trips[Int(try row.read(0, as: Int64.self)) - 1]
            lookups.previous[trip] = Geofence.Fix(coordinate: Coordinate(latitudeE6: try row.read(1, as: Int64.self), longitudeE6: try row.read(2, as: Int64.self)),
                                                  accuracyMeters: Int(try row.read(3, as: Int64?.self) ?? -1), deviceTime: try row.read(4, as: Int64.self))
        }
        // A visit's customer as the push will judge it: the stored one, unless the push writes
        // it (then the question is left to the judge, who asks it alone).
        let stored = try await reads.states("visits", Array(Set(asked.map(\.visit))), on: db)
        var rewritten = Set<RecordID>()
        for change in changes where change.table == "visits" && change.written("customer_id") != nil { rewritten.insert(change.record) }
        let spots = asked.compactMap { question -> Spot? in
            guard !rewritten.contains(question.visit), let customer = stored[question.visit]?.id("customer_id") else { return nil }
            return Spot(coordinate: question.coordinate, event: question.event, customer: customer)
        }
        // Stored visits whose customer the push rewrites make every stored answer doubtful.
        let doubtful = !rewritten.isDisjoint(with: try await reads.states("visits", Array(rewritten), on: db).keys)
        if !spots.isEmpty && !doubtful {
            for spot in spots { lookups.twins[spot] = false }
            for row in try await reads.query("""
                SELECT q.i FROM unnest($2::bigint[], $3::bigint[], $4::uuid[], $5::uuid[]) WITH ORDINALITY AS q(latitude, longitude, event, customer, i)
                WHERE EXISTS (SELECT 1 FROM geo_events g JOIN visits v ON v.tenant_id = g.tenant_id AND v.id = g.visit_id
                              WHERE g.tenant_id = $1 AND g.kind = 'check_in' AND g.latitude_e6 = q.latitude AND g.longitude_e6 = q.longitude
                                AND g.id <> q.event AND v.customer_id <> q.customer)
                """, [reads.tenant.uuidString, "{" + spots.map { String($0.coordinate.latitudeE6) }.joined(separator: ",") + "}",
                      "{" + spots.map { String($0.coordinate.longitudeE6) }.joined(separator: ",") + "}",
                      PostgresArray.literal(spots.map(\.event)), PostgresArray.literal(spots.map(\.customer))], on: db) {
                lookups.twins[spots[Int(try row.read(0, as: Int64.self)) - 1]] = true
            }
        }
        reads.memoize(key, lookups)
    }

    /// The coordinate a check-in is judged at (`0, 0` when it has none, as the fix is).
    static func coordinate(latitude: FieldValue?, longitude: FieldValue?) -> Coordinate {
        func micro(_ value: FieldValue?) -> Int64 { if case .integer(let value)? = value { value } else { 0 } }
        return Coordinate(latitudeE6: micro(latitude), longitudeE6: micro(longitude))
    }
}

extension ArrivalJudge {
    /// The user's previous located check-in at another visit before `time`, from the read-ahead
    /// and the push's own check-ins; `nil` when the read-ahead did not ask (look it up instead).
    func previousCheckIn(user: RecordID, visit: RecordID, before time: Int64) -> Geofence.Fix?? {
        guard let lookups = reads.memo(CheckInLookups.key) as? CheckInLookups,
              let stored = lookups.previous[CheckInLookups.Trip(user: user, visit: visit, time: time)] else { return nil }
        var latest = stored
        for event in reads.merged("geo_events").values {
            guard event.text("kind") == "check_in", event.id("user_id") == user, let other = event.id("visit_id"), other != visit,
                  let at = event.timestamp("device_time"), at < time,
                  let latitude = event.integer("latitude_e6"), let longitude = event.integer("longitude_e6") else { continue }
            if latest.map({ at > $0.deviceTime }) ?? true {
                latest = Geofence.Fix(coordinate: Coordinate(latitudeE6: latitude, longitudeE6: longitude),
                                      accuracyMeters: Int(event.integer("accuracy_m") ?? -1), deviceTime: at)
            }
        }
        return .some(latest)
    }

    /// Whether another check-in than `event`, at a visit of another customer than `customer`,
    /// was made at exactly `coordinate`; `nil` when the read-ahead did not ask.
    func checkInElsewhere(at coordinate: Coordinate, other event: RecordID, customer: RecordID?, on db: isolated PostgresConnection) async throws -> Bool? {
        guard let customer, let lookups = reads.memo(CheckInLookups.key) as? CheckInLookups,
              let stored = lookups.twins[CheckInLookups.Spot(coordinate: coordinate, event: event, customer: customer)] else { return nil }
        if stored { return true }
        for (id, row) in reads.merged("geo_events") where id != event && row.text("kind") == "check_in" {
            guard row.integer("latitude_e6") == coordinate.latitudeE6, row.integer("longitude_e6") == coordinate.longitudeE6,
                  let visit = row.id("visit_id") else { continue }
            // As the SQL join would: a visit that exists, whose customer is set and is another.
            if let other = try await reads.state("visits", visit, on: db)?.id("customer_id"), other != customer { return true }
        }
        return false
    }
}
