import FieldModel
import Foundation
import PostgresDriver
public import SyncCore
public import SyncEngine

/// Master data in (issue 20, item 1): a file of customers, contacts, products, price lists,
/// balances or stock counts, upserted by the ERP's key through the same merge path as any write, so phones see
/// the changes in their next sync. A file with any problem writes nothing: every row is read,
/// converted and checked against the schema and its references first, and every problem is
/// reported by line and column. A checked file is written in change sets of at most
/// ``importChangeSetMax`` records, each its own transaction; should the server stop between two,
/// loading the file again completes it. A record new to FieldSync gets an id derived
/// from the tenant, the table and its key, so two loads of the same file at once create it once;
/// a second load of the same file changes nothing (a row equal to its record writes nothing).
extension SyncStore {
    /// What an import did.
    public struct ImportReport: Sendable, Hashable {
        /// Data rows read; records created, records rewritten, rows that changed nothing.
        public var rows = 0, created = 0, updated = 0, unchanged = 0

        /// A report.
        public init(rows: Int = 0, created: Int = 0, updated: Int = 0, unchanged: Int = 0) {
            (self.rows, self.created, self.updated, self.unchanged) = (rows, created, updated, unchanged)
        }
    }

    /// An office user's import: managers and admins load master data.
    public func importMasterData(_ kind: ImportKind, _ file: ImportFile, by office: OfficeUser) async throws -> ImportReport {
        guard office.role == .manager || office.role == .admin else { throw OfficeError(.forbidden, "only managers and admins import master data") }
        return try await importMasterData(kind, file, tenant: office.tenant)
    }

    /// Imports `file` as `kind` into `tenant` (the operator's command; see the type's discussion).
    ///
    /// - Throws: ``ImportProblems`` listing every problem by line and column; nothing applied.
    public func importMasterData(_ kind: ImportKind, _ file: ImportFile, tenant: RecordID) async throws -> ImportReport {
        let plan = try await ImportPlan.make(kind, file, tenant: tenant, store: self)
        var report = ImportReport(rows: file.rows.count)
        var edits: [OfficeEdit] = []
        for record in plan.records {
            let current = plan.current[record.table]?[record.id]
            if let current, !current.isDeleted(under: try tables.table(record.table).tombstones) {
                let changed = record.fields.filter { field, value in current.fields[field]?.value != value }
                // A count sets a counter: the server adds what the count differs by.
                let adds = record.counts.compactMap { field, count -> (String, Int64)? in
                    guard case .counter(let counter)? = current.fields[field]?.value else { return (field, count) }
                    return counter.sum == count ? nil : (field, count - counter.sum)
                }
                guard !changed.isEmpty || !adds.isEmpty else { report.unchanged += 1; continue }
                var edit = OfficeEdit(record.table, record.id, changed)
                edit.adds = adds
                edits.append(edit)
                edits += Self.ledgerEntries(record, adds: adds, current: current)
                report.updated += 1
            } else {
                let given = Set(record.fields.map(\.0))
                var edit = OfficeEdit(record.table, record.id, record.fields + record.defaults.filter { !given.contains($0.0) })
                edit.adds = record.counts
                edits.append(edit)
                edits += Self.ledgerEntries(record, adds: record.counts.filter { $0.1 != 0 }, current: nil)
                report.created += 1
            }
        }
        // Change sets of at most `importChangeSetMax` records: one of 100,000 would hold as many
        // record locks in one transaction, more than PostgreSQL's lock table has room for.
        for start in stride(from: 0, to: edits.count, by: Self.importChangeSetMax) {
            try await edit(Array(edits[start..<min(start + Self.importChangeSetMax, edits.count)]), by: nil, tenant: tenant)
        }
        return report
    }

    /// The stock ledger's lines for a stock count's differences (reason `erp_count`), each with an
    /// id derived from the level and the server's totals before and after, so two loads at once write one.
    static func ledgerEntries(_ record: ImportPlan.Record, adds: [(String, Int64)], current: RecordState?) -> [OfficeEdit] {
        guard record.table == "stock_levels", let location = record.location, let product = record.product else { return [] }
        return adds.map { field, delta in
            var before: Int64 = 0
            if case .counter(let counter)? = current?.fields[field]?.value { before = counter.contributions[.server]?.total ?? 0 }
            let id = RecordID.derived(from: "ledger|\(record.id.uuidString)|\(before)|\(before &+ delta)")
            return OfficeEdit("stock_ledger", id, [("stock_location_id", .id(location)), ("product_id", .id(product)), ("delta", .integer(delta)),
                                                  ("reason", .text("erp_count")), ("reference_id", .null)])
        }
    }

    /// The most records an import writes in one change set (one transaction).
    public static let importChangeSetMax = 1_000

    /// The id a record new to FieldSync gets for its key: the same on every load and instance.
    public static func importedID(tenant: RecordID, table: String, key: String) -> RecordID {
        RecordID.derived(from: "\(tenant.uuidString)|\(table)|\(key)")
    }
}

/// A file read, checked and resolved: the records it writes, and their current states.
struct ImportPlan {
    /// A record the file writes: its fields, and what a new one gets besides.
    struct Record {
        var table: String
        var id: RecordID
        var fields: [(String, FieldValue)]
        var defaults: [(String, FieldValue)]
        /// Counter fields the record's counts set (a stock level's quantity).
        var counts: [(String, Int64)] = []

        /// A stock level's location and product.
        var location: RecordID? { fields.first { $0.0 == "stock_location_id" }.flatMap { if case .id(let id) = $0.1 { id } else { nil } } }
        var product: RecordID? { fields.first { $0.0 == "product_id" }.flatMap { if case .id(let id) = $0.1 { id } else { nil } } }
    }

    var records: [Record] = []
    var current: [String: [RecordID: RecordState]] = [:]

    static func make(_ kind: ImportKind, _ file: ImportFile, tenant: RecordID, store: SyncStore) async throws -> ImportPlan {
        let schema = store.tables.schema.schema
        var problems: [ImportFile.Problem] = []
        let columns = Set([kind.keyColumn] + kind.columns.map(\.name))
        for column in file.columns where !columns.contains(column) {
            problems.append(.init(line: 1, column: column, "no such column for \(kind.rawValue); the columns are \(([kind.keyColumn] + kind.columns.map(\.name)).joined(separator: ", "))"))
        }
        // The references, found in bulk: every key each lookup needs.
        var wanted: [String: Set<String>] = [:]
        for row in file.rows {
            for column in kind.columns {
                guard case .lookup(let lookup) = column.conversion, let key = row.cells[column.name] else { continue }
                wanted[Self.lookupTable(lookup), default: []].insert(key)
            }
        }
        var found: [String: [String: RecordID]] = [:]
        for (table, keys) in wanted {
            found[table] = try await Self.ids(table, keys: keys, byName: table == "territories", tenant: tenant, store: store)
        }
        // The keys FieldSync knows already: a row for one of them may leave out what only a new record needs.
        // (A stock file's key is a stock location, by name or id.)
        let known = try await Self.ids(kind == .stock ? "stock_locations" : kind.table,
                                       keys: Set(file.rows.compactMap { $0.cells[kind.keyColumn]?.trimmingCharacters(in: .whitespaces) }),
                                       byName: kind == .stock, tenant: tenant, store: store)
        // Each row converted and checked, cell by cell.
        var rows: [(line: Int, key: String, values: [(String, FieldValue)])] = []
        var firstLine: [String: Int] = [:]
        for row in file.rows {
            guard let key = row.cells[kind.keyColumn]?.trimmingCharacters(in: .whitespaces), !key.isEmpty else {
                problems.append(.init(line: row.line, column: kind.keyColumn, "the key is missing"))
                continue
            }
            if key.utf8.count > 64 { problems.append(.init(line: row.line, column: kind.keyColumn, "a key has at most 64 bytes")) }
            var values: [(String, FieldValue)] = []
            for column in kind.columns {
                let table = kind == .priceLists && !ImportKind.priceListHeader.contains(column.name) ? "price_list_entries" : kind.table
                guard let text = row.cells[column.name] else {
                    // Required of every row: a price list's entry; of a new record: the rest.
                    let always = kind == .priceLists && table == "price_list_entries"
                    if column.required && (always || known[key] == nil) {
                        problems.append(.init(line: row.line, column: column.name, known[key] == nil ? "a value is required for a new record" : "a value is required"))
                    }
                    continue
                }
                guard let field = schema.table(table)?.field(column.field) else { continue }
                let value: FieldValue
                if case .lookup(let lookup) = column.conversion {
                    guard let id = found[Self.lookupTable(lookup)]?[text] else {
                        problems.append(.init(line: row.line, column: column.name, "no \(Self.lookupTable(lookup).replacingOccurrences(of: "_", with: " ")) “\(text)”"))
                        continue
                    }
                    value = .id(id)
                } else if case .count = column.conversion {
                    // A count sets a counter; its range is the conversion's.
                    switch ImportKind.value(text, for: field, column.conversion) {
                    case .success(let converted): values.append((column.field, converted))
                    case .failure(let failure): problems.append(.init(line: row.line, column: column.name, failure.message))
                    }
                    continue
                } else {
                    switch ImportKind.value(text, for: field, column.conversion) {
                    case .success(let converted): value = converted
                    case .failure(let failure):
                        problems.append(.init(line: row.line, column: column.name, failure.message))
                        continue
                    }
                }
                // The schema's own checks: length, range, vocabulary.
                let probe = Change(id: ChangeID(RecordID(high: 0, low: 1)), table: table, record: RecordID(high: 0, low: 1),
                                   operation: .write([FieldWrite(column.field, value, base: nil)]), version: Version(clock: HLC(rawValue: 1), replica: .server))
                do throws(ChangeViolation) {
                    try schema.validate(probe)
                } catch {
                    problems.append(.init(line: row.line, column: column.name, error.message))
                    continue
                }
                values.append((column.field, value))
            }
            // A key twice in a file is a mistake, except a price list's, which has a row per entry.
            let rowKey = kind == .priceLists || kind == .stock ? key + "|" + (row.cells["product"] ?? "") : key
            if let earlier = firstLine[rowKey] {
                problems.append(.init(line: row.line, column: kind.keyColumn, "“\(key)” is already on line \(earlier)"))
            } else {
                firstLine[rowKey] = row.line
            }
            rows.append((row.line, key, values))
        }
        if !problems.isEmpty { throw ImportProblems(problems) }
        var plan = ImportPlan()
        try await plan.build(kind, rows, existing: known, tenant: tenant, store: store)
        return plan
    }

    static func lookupTable(_ lookup: ImportKind.Lookup) -> String {
        switch lookup {
        case .territory: "territories"
        case .erp(let table): table
        }
    }

    /// The live records of `table` by key: `erp_reference`, or for territories their name or id.
    static func ids(_ table: String, keys: Set<String>, byName: Bool, tenant: RecordID, store: SyncStore) async throws -> [String: RecordID] {
        let column = byName ? "name" : "erp_reference"
        var ids: [String: RecordID] = [:]
        // The lowest id wins where two records share a key.
        for row in try await store.pool.query("""
            SELECT \(column), id::text FROM \(table) WHERE tenant_id = $1 AND \(column) = ANY($2::text[]) AND NOT _deleted ORDER BY id DESC
            """, [tenant.uuidString, PostgresArray.literal(Array(keys))]) {
            if let key = try row.read(0, as: String?.self), let id = RecordID(try row.read(1, as: String.self)) { ids[key] = id }
        }
        if byName {
            for key in keys where ids[key] == nil {
                if let id = RecordID(key), try await !store.pool.query("SELECT 1 FROM \(table) WHERE tenant_id = $1 AND id = $2::uuid AND NOT _deleted",
                                                                        [tenant.uuidString, id.uuidString]).isEmpty {
                    ids[key] = id
                }
            }
        }
        return ids
    }

    /// The records the rows write, each found by its key in `existing` (or given the key's derived id), and their current states.
    mutating func build(_ kind: ImportKind, _ rows: [(line: Int, key: String, values: [(String, FieldValue)])], existing: [String: RecordID], tenant: RecordID,
                        store: SyncStore) async throws {
        if kind == .stock {
            try await buildStock(rows, locations: existing, tenant: tenant, store: store)
        } else if kind == .balances {
            var problems: [ImportFile.Problem] = []
            for row in rows {
                guard let id = existing[row.key] else {
                    problems.append(.init(line: row.line, column: kind.keyColumn, "no customer “\(row.key)”"))
                    continue
                }
                records.append(Record(table: "customers", id: id, fields: row.values, defaults: []))
            }
            if !problems.isEmpty { throw ImportProblems(problems) }
        } else if kind == .priceLists {
            // One record per list (its header, which its rows must agree on) and one per entry.
            var lists: [String: (line: Int, id: RecordID, header: [(String, FieldValue)])] = [:]
            var problems: [ImportFile.Problem] = []
            var entries: [(list: RecordID, listKey: String, values: [(String, FieldValue)])] = []
            for row in rows {
                let header = row.values.filter { ImportKind.priceListHeader.contains($0.0) }
                if let list = lists[row.key] {
                    for (field, value) in header where list.header.first(where: { $0.0 == field })?.1 != value {
                        problems.append(.init(line: row.line, column: field, "price list “\(row.key)” has another \(field) on line \(list.line)"))
                    }
                } else {
                    let id = existing[row.key] ?? SyncStore.importedID(tenant: tenant, table: "price_lists", key: row.key)
                    lists[row.key] = (row.line, id, header)
                    records.append(Record(table: "price_lists", id: id, fields: header + [("erp_reference", .text(row.key))], defaults: kind.defaults))
                }
                entries.append((lists[row.key]!.id, row.key, row.values.filter { !ImportKind.priceListHeader.contains($0.0) }))
            }
            if !problems.isEmpty { throw ImportProblems(problems) }
            // An entry is found by its list and product.
            var entryIDs: [String: RecordID] = [:]
            for row in try await store.pool.query("""
                SELECT price_list_id::text, product_id::text, id::text FROM price_list_entries
                WHERE tenant_id = $1 AND price_list_id = ANY($2::uuid[]) AND NOT _deleted ORDER BY id DESC
                """, [tenant.uuidString, PostgresArray.literal(lists.values.map(\.id))]) {
                guard let list = try row.read(0, as: String?.self).flatMap({ RecordID($0) }), let product = try row.read(1, as: String?.self).flatMap({ RecordID($0) }),
                      let id = RecordID(try row.read(2, as: String.self)) else { continue }
                entryIDs["\(list.uuidString)|\(product.uuidString)"] = id
            }
            for entry in entries {
                guard case .id(let product)? = entry.values.first(where: { $0.0 == "product_id" })?.1 else { continue }
                let id = entryIDs["\(entry.list.uuidString)|\(product.uuidString)"]
                    ?? SyncStore.importedID(tenant: tenant, table: "price_list_entries", key: "\(entry.listKey)|\(product.uuidString)")
                records.append(Record(table: "price_list_entries", id: id, fields: [("price_list_id", .id(entry.list))] + entry.values, defaults: []))
            }
        } else {
            for row in rows {
                let id = existing[row.key] ?? SyncStore.importedID(tenant: tenant, table: kind.table, key: row.key)
                records.append(Record(table: kind.table, id: id, fields: row.values + [("erp_reference", .text(row.key))], defaults: kind.defaults))
            }
        }
        try await readCurrent(store: store, tenant: tenant)
    }

    /// The stock levels a stock file sets: one per location and product, found or given an id derived from the two.
    mutating func buildStock(_ rows: [(line: Int, key: String, values: [(String, FieldValue)])], locations: [String: RecordID], tenant: RecordID,
                             store: SyncStore) async throws {
        var problems: [ImportFile.Problem] = []
        var wanted: [(location: RecordID, product: RecordID, count: Int64)] = []
        for row in rows {
            guard let location = locations[row.key] else {
                problems.append(.init(line: row.line, column: "location", "no stock location “\(row.key)”"))
                continue
            }
            guard case .id(let product)? = row.values.first(where: { $0.0 == "product_id" })?.1,
                  case .integer(let count)? = row.values.first(where: { $0.0 == "quantity" })?.1 else { continue }
            wanted.append((location, product, count))
        }
        if !problems.isEmpty { throw ImportProblems(problems) }
        var levels: [String: RecordID] = [:]
        // The lowest id wins where a location holds a product twice (as the phones' reads choose).
        for row in try await store.pool.query("""
            SELECT stock_location_id::text, product_id::text, id::text FROM stock_levels
            WHERE tenant_id = $1 AND stock_location_id = ANY($2::uuid[]) AND NOT _deleted ORDER BY id DESC
            """, [tenant.uuidString, PostgresArray.literal(Array(Set(wanted.map(\.location))))]) {
            guard let location = try row.read(0, as: String?.self), let product = try row.read(1, as: String?.self) else { continue }
            levels["\(location)|\(product)"] = RecordID(try row.read(2, as: String.self))
        }
        for (location, product, count) in wanted {
            let key = "\(location.uuidString)|\(product.uuidString)"
            let id = levels[key] ?? SyncStore.importedID(tenant: tenant, table: "stock_levels", key: key)
            records.append(Record(table: "stock_levels", id: id, fields: [("stock_location_id", .id(location)), ("product_id", .id(product))], defaults: [],
                                  counts: [("quantity", count)]))
        }
    }

    /// The current states of the records the plan writes.
    mutating func readCurrent(store: SyncStore, tenant: RecordID) async throws {
        for (table, group) in Dictionary(grouping: records, by: \.table) {
            let schema = try store.tables.table(table)
            current[table] = try await store.pool.withConnection { db in try await store.tables.read(schema, group.map(\.id), tenant: tenant, on: db) }
        }
    }
}
