public import ServerStore

extension DemoDataSet {
    /// Loads the data set into a database at the current schema revision, in one transaction,
    /// each table with one `COPY`. Does nothing when the database already holds tenants, so
    /// that a development server restarted on the same database keeps its state.
    /// - Returns: Whether anything was loaded.
    @discardableResult
    public func load(into pool: PostgresPool) async throws -> Bool {
        let tables = self.tables
        return try await pool.transaction { connection in
            let existing = try await connection.query("SELECT count(*) FROM tenants")[0].read(0, as: Int.self)
            guard existing == 0 else { return false }
            for table in tables {
                let rows = table.rows.map { row in row.map { $0.map(PostgresValue.text) ?? .null } }
                try await connection.copy(into: table.name, columns: table.columns, rows: rows)
            }
            return true
        }
    }
}
