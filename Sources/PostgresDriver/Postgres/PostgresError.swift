/// An error from PostgreSQL or from libpq.
///
/// ``description`` never prints query parameters or row data: it gives the code, the SQLSTATE
/// and its condition name, the table, column and constraint involved, and the server's primary
/// message except for data exceptions (SQLSTATE class 22), whose messages quote input values.
/// The server's full message stays available in ``serverMessage`` for deliberate debugging.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for the code.
        public let name: String
        /// Creates a code from its stable name.
        public init(_ name: String) { self.name = name }

        /// The database URL or `key=value` connection string cannot be parsed.
        public static let badConnectionString = Code("bad_connection_string")
        /// Nothing listens at the address or socket (the server is down or the path is wrong).
        public static let connectionRefused = Code("connection_refused")
        /// The server refused the user or password.
        public static let authenticationFailed = Code("authentication_failed")
        /// Connecting failed for another reason (timeout, unknown host, unknown database).
        public static let connectionFailed = Code("connection_failed")
        /// An open connection broke: the backend was terminated, the server restarted or the
        /// network failed. The connection cannot be used again.
        public static let connectionLost = Code("connection_lost")
        /// The server rejected a statement; ``PostgresError/sqlState`` says why.
        public static let sql = Code("sql_error")
        /// The calling task was cancelled and the server stopped the statement.
        public static let cancelled = Code("cancelled")
        /// A result column held a value that cannot be read as the requested type.
        public static let typeMismatch = Code("type_mismatch")
        /// The pool was closed while the caller waited for, or asked for, a connection.
        public static let poolClosed = Code("pool_closed")
        /// libpq reported a failure outside any statement (out of memory, protocol error).
        public static let client = Code("client_error")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The five-character SQLSTATE, for errors the server reported.
    public var sqlState: String?
    /// A message that contains no query parameters or row data.
    public var message: String
    /// The server's primary message, which may quote data; not part of ``description``.
    public var serverMessage: String?
    /// The table, column and constraint the server named, if any.
    public var table: String?
    /// See ``table``.
    public var column: String?
    /// See ``table``.
    public var constraint: String?

    /// Creates an error.
    public init(_ code: Code, message: String, sqlState: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String {
        var text = "PostgreSQL \(code)"
        if let sqlState { text += " (SQLSTATE \(sqlState)\(Self.conditionNames[sqlState].map { ", \($0)" } ?? ""))" }
        text += ": \(message)"
        if let table { text += " [table \(table)" + (column.map { ", column \($0)" } ?? "") + (constraint.map { ", constraint \($0)" } ?? "") + "]" }
        return text
    }

    /// Condition names of the SQLSTATEs FieldSync meets most, for readable logs.
    static let conditionNames: [String: String] = [
        "23505": "unique_violation", "23503": "foreign_key_violation", "23502": "not_null_violation",
        "23514": "check_violation", "40001": "serialization_failure", "40P01": "deadlock_detected",
        "42P01": "undefined_table", "42703": "undefined_column", "42601": "syntax_error",
        "42P07": "duplicate_table", "57014": "query_canceled", "57P01": "admin_shutdown",
        "57P02": "crash_shutdown", "57P03": "cannot_connect_now", "53300": "too_many_connections",
        "3D000": "invalid_catalog_name", "28P01": "invalid_password", "28000": "invalid_authorization_specification",
        "22P02": "invalid_text_representation", "22003": "numeric_value_out_of_range", "25P02": "in_failed_sql_transaction",
    ]
}
