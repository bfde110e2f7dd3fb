extension PostgresConnection {
    /// Inserts `rows` into `table` with multi-row `INSERT … VALUES` statements, as few as the
    /// protocol's 65,535 parameters allow, keeping the rows' order (a `bigserial` column numbers
    /// them in that order). `suffix` follows each statement (`ON CONFLICT DO NOTHING`).
    ///
    /// - Returns: How many statements it took.
    @discardableResult
    public func insert(into table: String, columns: [String], rows: [[PostgresValue]], suffix: String = "") async throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let perStatement = max(1, 65_535 / max(1, columns.count))
        var statements = 0
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            var tuples: [String] = []
            tuples.reserveCapacity(chunk.count)
            for index in chunk.indices.map({ $0 - start }) {
                tuples.append("(" + (0..<columns.count).map { "$\(index * columns.count + $0 + 1)" }.joined(separator: ", ") + ")")
            }
            try await query("INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) \(suffix)",
                            chunk.flatMap { $0 })
            statements += 1
        }
        return statements
    }
}
