import FieldRules
public import PostgresDriver
import SyncEngine
import FieldModel
public import SyncCore
import SyncWire

extension DemoDataSet {
    /// The demo tenant's id.
    public var tenant: RecordID? { self["tenants"]?.rows.first.flatMap { $0[0] }.flatMap { RecordID($0) } }

    /// Loads the data set into a database at the current schema revision as the server's own
    /// records, in one transaction. Does nothing when the tenant is already there, so that a
    /// development server restarted on the same database keeps its state. Rows are retired from
    /// phones as of `clock` (see `PhoneWindow`), so the data set loads the same whatever the date.
    /// - Returns: Whether anything was loaded.
    @discardableResult
    public func load(into pool: PostgresPool, clock: HLC = HLC(milliseconds: 1_796_000_000_000)) async throws -> Bool {
        guard let tenant else { throw DemoDataError("the data set has no tenant") }
        let existing = try await pool.query("SELECT count(*) FROM tenants WHERE tenant_id = $1", [tenant.uuidString])[0].read(0, as: Int.self)
        guard existing == 0 else { return false }
        let snapshots = try snapshots(for: FieldSalesSchema.schema, clock: clock)
        try await SyncStore(pool: pool, domain: FieldSalesDomain())
            .seed(snapshots.map { ($0.ref.table, $0.ref.record, $0.state) }, tenant: tenant, at: Int64(clock.milliseconds))
        return true
    }
}
