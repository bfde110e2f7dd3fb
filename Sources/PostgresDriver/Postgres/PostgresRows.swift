/// The rows a statement returned, in text format, detached from libpq.
///
/// The cells' text is kept in one buffer, not as a string per cell: a push reads tens of
/// thousands of cells (a record's value, clock and replica for every field), and most are parsed
/// into numbers or ids at once, so a string each would be an allocation each for nothing.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// Where one cell's text is in ``text``; a length of -1 is SQL NULL.
    struct Cell: Sendable {
        var start: Int
        var length: Int32
    }

    /// The column names, in result order.
    public let columns: [String]
    /// Every non-NULL cell's text, one after another.
    let text: [UInt8]
    /// Rows × columns, row by row.
    let cells: [Cell]
    /// How many rows (a row may have no columns: `SELECT FROM t`).
    let rowCount: Int
    /// For INSERT, UPDATE, DELETE, COPY and the like: how many rows the command touched.
    public let affectedRows: Int

    init(columns: [String], text: [UInt8], cells: [Cell], rowCount: Int, affectedRows: Int) {
        self.columns = columns
        self.text = text
        self.cells = cells
        self.rowCount = rowCount
        self.affectedRows = affectedRows
    }

    /// No rows.
    public static let empty = PostgresRows(columns: [], text: [], cells: [], rowCount: 0, affectedRows: 0)

    public var startIndex: Int { 0 }
    public var endIndex: Int { rowCount }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, first: position * columns.count) }

    /// Calls `body` with the text of the cell at `index` (in ``cells``), or `nil` for NULL.
    func withCell<Result, Failure: Error>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws(Failure) -> Result) throws(Failure) -> Result {
        let cell = cells[index]
        guard cell.length >= 0 else { return try body(nil) }
        return try text.withUnsafeBufferPointer { (all) throws(Failure) -> Result in
            try body(UnsafeBufferPointer(rebasing: all[cell.start..<cell.start + Int(cell.length)]))
        }
    }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    /// Where the row's first cell is in the result's cells.
    let first: Int

    /// The column names, in result order.
    public var columns: [String] { rows.columns }

    /// The raw text of each column; `nil` is SQL NULL.
    public var cells: [String?] {
        (0..<columns.count).map { column in
            rows.withCell(first + column) { bytes in bytes.map { String(decoding: $0, as: UTF8.self) } }
        }
    }

    /// Reads column `index` (from 0) as `T`; NULL throws ``PostgresError/Code/typeMismatch``.
    public func read<T: PostgresReadable>(_ index: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        try rows.withCell(first + index) { (bytes) throws(PostgresError) -> T in
            guard let bytes else { throw PostgresError(.typeMismatch, message: "column \(columns[index]) is NULL") }
            return try T(postgresText: bytes)
        }
    }

    /// Reads column `index` as `T`, or `nil` for NULL.
    public func read<T: PostgresReadable>(_ index: Int, as type: T?.Type) throws(PostgresError) -> T? {
        try rows.withCell(first + index) { (bytes) throws(PostgresError) -> T? in
            guard let bytes else { return nil }
            return try T(postgresText: bytes)
        }
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
