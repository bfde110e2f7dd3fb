/// One result row, detached from its statement so that it can leave the database actor.
public struct SQLiteRow: Sendable, Hashable {
    /// The column names of a result, shared by all its rows.
    public struct Columns: Sendable, Hashable {
        /// The names, in result order.
        public let names: [String]
        init(_ names: [String]) { self.names = names }
    }

    /// The result's column names.
    public let columns: Columns
    /// The values, in column order.
    public let values: [SQLiteValue]

    /// Reads column `index` (from 0) as `T`.
    public func read<T: SQLiteReadable>(_ index: Int, as type: T.Type = T.self) throws(SQLiteError) -> T {
        try T(sqliteValue: values[index])
    }

    /// Reads the column called `name` as `T`.
    public func read<T: SQLiteReadable>(_ name: String, as type: T.Type = T.self) throws(SQLiteError) -> T {
        guard let index = columns.names.firstIndex(of: name) else {
            throw SQLiteError(.misuse, message: "the result has no column named \(name)")
        }
        return try T(sqliteValue: values[index])
    }
}
