public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore

/// A list item with its record's id (what a cursor names).
public protocol Identified {
    /// The item's record.
    var id: RecordID { get }
}

/// The office's lists: filtered, newest first, paged with a cursor, and limited to what the
/// caller may see (``OfficeSight``: a manager their team's, a dispatcher their territories', an
/// admin their tenant's).
extension SyncStore {
    /// A page of a list and the cursor of the next page (`nil` after the last).
    public struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
        /// The rows of this page.
        public var items: [Item]
        /// Where the next page starts: pass it back as `after`.
        public var next: String?
    }

    /// The most rows one page of a list holds.
    public static let listPageMax = 500

    /// What every time-ordered list checks and reads first: the page size, a status filter against
    /// its state machine, the cursor's place, and what the caller may see.
    func listScope(limit: Int, status: String? = nil, of machine: StateMachine? = nil, after cursor: String?,
                   by office: OfficeUser) async throws -> (position: (date: Int64, id: RecordID)?, sight: OfficeSight) {
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "\"limit\" is 1 to \(Self.listPageMax)") }
        if let status, let machine, machine.order.rank(of: status) == nil {
            throw OfficeError(.invalid, "\"status\" is one of \(machine.order.ranking.joined(separator: ", "))")
        }
        let position = try cursor.map(Self.position(of:))
        return (position, try await sight(of: office))
    }

    /// A list ordered by a time, latest first (then by id): what it reads and how it filters.
    /// ``page(_:limit:after:sight:tenant:row:)`` runs it with the clauses it needs and no others.
    struct TimeOrderedQuery {
        /// The columns an item is read from, in order.
        var columns: String
        /// The listed table, with its alias, and its joins.
        var source: String
        /// The listed table's alias.
        var alias: String
        /// The time the list is ordered by: an expression that is never null.
        var time: String
        /// The column naming the user a manager's team must hold for the row to show.
        var member: String
        /// The column naming the customer a dispatcher's territories must hold for the row to show.
        var customer: String
        /// Equality filters: a column (compared as text) and the wanted value, when given.
        var equals: [(column: String, value: String?)] = []
        /// Further conditions without parameters.
        var conditions: [String] = []
        /// Only rows whose time is in `[from, to)`.
        var from: Int64?, to: Int64?
    }

    /// One page of `query` after `position`, limited to what `sight` sees; each row made into an
    /// item by `row` (the time the list is ordered by follows the query's columns).
    func page<Item: Sendable & Hashable & Identified>(_ query: TimeOrderedQuery, limit: Int, after position: (date: Int64, id: RecordID)?,
                                                     sight: OfficeSight, tenant: RecordID, row: (PostgresRow) throws -> Item) async throws -> Page<Item> {
        var values: [any PostgresBindable] = [tenant.uuidString]
        func parameter(_ value: any PostgresBindable) -> String {
            values.append(value)
            return "$\(values.count)"
        }
        let a = query.alias
        var clauses = ["\(a).tenant_id = $1", "NOT \(a)._deleted"]
        for (column, value) in query.equals { if let value { clauses.append("\(column)::text = \(parameter(value))") } }
        clauses += query.conditions
        if let from = query.from { clauses.append("\(query.time) >= \(parameter(from))") }
        if let to = query.to { clauses.append("\(query.time) < \(parameter(to))") }
        if let team = sight.team { clauses.append("\(query.member) = ANY(\(parameter(PostgresArray.literal(team)))::uuid[])") }
        if let territories = sight.territories {
            clauses.append(Self.customerIn(query.customer, territories: parameter(PostgresArray.literal(territories))))
        }
        if let position { clauses.append("(\(query.time), \(a).id) < (\(parameter(position.date)), \(parameter(position.id.uuidString))::uuid)") }
        let rows = try await pool.query("""
            SELECT \(query.columns), \(query.time) FROM \(query.source)
            WHERE \(clauses.joined(separator: " AND "))
            ORDER BY \(query.time) DESC, \(a).id DESC
            LIMIT \(parameter(Int64(limit + 1)))
            """, values)
        var last: (time: Int64, id: RecordID)?
        var items: [Item] = []
        for found in rows.prefix(limit) {
            let item = try row(found)
            items.append(item)
            last = (try found.read(found.cells.count - 1, as: Int64.self), item.id)
        }
        return Page(items: items, next: rows.count > limit ? last.map { "\($0.time)_\($0.id.uuidString)" } : nil)
    }

    /// The place a cursor names: the last row of the page before.
    static func position(of cursor: String) throws -> (date: Int64, id: RecordID) {
        let parts = cursor.split(separator: "_")
        guard parts.count == 2, let date = Int64(parts[0]), let id = RecordID(String(parts[1])) else {
            throw OfficeError(.invalid, "\"after\" takes the \"next\" of the page before")
        }
        return (date, id)
    }
}
