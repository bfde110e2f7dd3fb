/// An error from the device's SQLite database.
///
/// The ``description`` gives the code, SQLite's result code and SQLite's own message (which names
/// tables, columns and constraints, never bound values); it never prints parameter values.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for the code.
        public let name: String
        /// Creates a code from its stable name.
        public init(_ name: String) { self.name = name }

        /// The database file could not be opened or created.
        public static let cannotOpen = Code("cannot_open")
        /// A statement failed to prepare (a syntax error or an unknown table or column).
        public static let prepareFailed = Code("prepare_failed")
        /// A constraint (unique, foreign key, check, not null) refused a write.
        public static let constraint = Code("constraint")
        /// Another connection held a lock for longer than the busy timeout.
        public static let busy = Code("busy")
        /// The calling task was cancelled and SQLite was interrupted.
        public static let cancelled = Code("cancelled")
        /// A column held a value of another type than the one read, or NULL where a value was expected.
        public static let typeMismatch = Code("type_mismatch")
        /// The database file is damaged or is not a database.
        public static let corrupt = Code("corrupt")
        /// Any other failure SQLite reported.
        public static let sqlError = Code("sql_error")
        /// The API was used out of order (for example a transaction commit without a begin).
        public static let misuse = Code("misuse")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// SQLite's extended result code, or 0 when the error did not come from SQLite.
    public var resultCode: Int32
    /// What went wrong, without any bound value.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, resultCode: Int32 = 0, message: String) {
        self.code = code
        self.resultCode = resultCode
        self.message = message
    }

    public var description: String {
        resultCode == 0 ? "SQLite \(code): \(message)" : "SQLite \(code) (\(resultCode)): \(message)"
    }
}
