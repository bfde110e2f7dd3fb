/// Statements to run together in one round trip (libpq's pipeline mode): independent writes,
/// such as the bookkeeping a push writes at its end. See ``PostgresConnection/run(_:)``.
public struct PostgresBatch: Sendable {
    /// One statement and its parameters `$1`, `$2`, ….
    public struct Statement: Sendable {
        /// The SQL text (one statement).
        public var sql: String
        /// Its parameters.
        public var values: [PostgresValue]
    }

    /// The statements, in the order they run.
    public private(set) var statements: [Statement] = []

    /// An empty batch.
    public init() {}

    /// Whether the batch has no statement.
    public var isEmpty: Bool { statements.isEmpty }

    /// Adds one statement.
    public mutating func add(_ sql: String, _ values: [any PostgresBindable] = []) {
        statements.append(Statement(sql: sql, values: values.map(\.postgresValue)))
    }

    /// Adds the statements of `other`, after these.
    public mutating func append(contentsOf other: PostgresBatch) {
        statements += other.statements
    }

    /// Adds one `INSERT … SELECT … FROM unnest(…)` statement for `rows`: each column travels as one
    /// array parameter of its `type` (`uuid`, `bigint`, `bytea`, …), so the statement's text is the
    /// same for any number of rows and a connection prepares it once. A column of `boolean`,
    /// `smallint`, `integer`, `bigint`, `uuid`, `text` or `bytea` travels in binary format (no
    /// quoting here, no parsing of a literal there); any other type, or a value that is not of its
    /// column's type, as a text literal, so PostgreSQL reports it. Rows are inserted in their
    /// order (a `bigserial` column numbers them in that order). `suffix` follows the statement
    /// (`ON CONFLICT DO NOTHING`).
    public mutating func insert(into table: String, columns: [(name: String, type: String)], rows: [[PostgresValue]], suffix: String = "") {
        guard !rows.isEmpty else { return }
        // Each column as one array in binary format where its type has one (PostgresBinaryArray),
        // else as a text literal.
        let arrays: [PostgresValue] = columns.indices.map { index in
            let values = rows.lazy.map { $0[index] }
            if let element = PostgresBinaryArray.Element(columns[index].type), let array = PostgresBinaryArray.encode(values, as: element) {
                return .bytes(array)
            }
            return .text(PostgresArray.literal(values))
        }
        // The arrays' columns are named by position (c1, c2, …), so no table column can clash with
        // the ordinality column.
        let names = columns.map(\.name).joined(separator: ", ")
        let positional = columns.indices.map { "c\($0 + 1)" }.joined(separator: ", ")
        let parameters = columns.indices.map { "$\($0 + 1)::\(columns[$0].type)[]" }.joined(separator: ", ")
        statements.append(Statement(sql: "INSERT INTO \(table) (\(names)) SELECT \(positional) FROM unnest(\(parameters)) WITH ORDINALITY AS r(\(positional), n) ORDER BY n \(suffix)",
                                    values: arrays))
    }
}
