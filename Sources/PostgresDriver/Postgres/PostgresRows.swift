/// The rows a statement returned, in text format, detached from libpq.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// The column names, in result order.
    public let columns: [String]
    /// Rows × columns; `nil` is SQL NULL.
    let cells: [[String?]]
    /// For INSERT, UPDATE, DELETE, COPY and the like: how many rows the command touched.
    public let affectedRows: Int

    init(columns: [String], cells: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.cells = cells
        self.affectedRows = affectedRows
    }

    /// No rows.
    public static let empty = PostgresRows(columns: [], cells: [], affectedRows: 0)

    public var startIndex: Int { 0 }
    public var endIndex: Int { cells.count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(columns: columns, cells: cells[position]) }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    /// The column names, in result order.
    public let columns: [String]
    /// The raw text of each column; `nil` is SQL NULL.
    public let cells: [String?]

    /// Reads column `index` (from 0) as `T`; NULL throws ``PostgresError/Code/typeMismatch``.
    public func read<T: PostgresReadable>(_ index: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let text = cells[index] else { throw PostgresError(.typeMismatch, message: "column \(columns[index]) is NULL") }
        return try T(postgresText: text)
    }

    /// Reads column `index` as `T`, or `nil` for NULL.
    public func read<T: PostgresReadable>(_ index: Int, as type: T?.Type) throws(PostgresError) -> T? {
        guard let text = cells[index] else { return nil }
        return try T(postgresText: text)
    }

    /// Reads the column called `name` as `T`.
    public func read<T: PostgresReadable>(_ name: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        try read(index(of: name), as: type)
    }

    /// Reads the column called `name` as `T`, or `nil` for NULL.
    public func read<T: PostgresReadable>(_ name: String, as type: T?.Type) throws(PostgresError) -> T? {
        try read(index(of: name), as: type)
    }

    private func index(of name: String) throws(PostgresError) -> Int {
        guard let index = columns.firstIndex(of: name) else {
            throw PostgresError(.typeMismatch, message: "the result has no column named \(name)")
        }
        return index
    }
}
