extension PostgresConnection {
    /// Inserts `rows` into `table` with multi-row `INSERT … VALUES` statements
    /// (``PostgresBatch/insert(into:columns:rows:suffix:)``), sent in one round trip.
    ///
    /// - Returns: How many statements it took.
    @discardableResult
    public func insert(into table: String, columns: [String], rows: [[PostgresValue]], suffix: String = "") async throws -> Int {
        var batch = PostgresBatch()
        batch.insert(into: table, columns: columns, rows: rows, suffix: suffix)
        try await run(batch)
        return batch.statements.count
    }
}
