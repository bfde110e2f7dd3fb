/// One SQLite value, in SQLite's five storage classes.
public enum SQLiteValue: Hashable, Sendable {
    /// SQL NULL.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// A 64-bit IEEE float. FieldSync never stores money this way (money is integer minor units).
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Raw bytes.
    case blob([UInt8])
}

/// A Swift value that can be bound to a statement parameter.
public protocol SQLiteBindable: Sendable {
    /// The value as SQLite stores it.
    var sqliteValue: SQLiteValue { get }
}

/// A Swift value that can be read from a result column.
public protocol SQLiteReadable: Sendable {
    /// Reads the value, or throws ``SQLiteError/Code/typeMismatch`` when the column holds
    /// something else (NULL included: read an `Optional` to accept NULL).
    init(sqliteValue: SQLiteValue) throws(SQLiteError)
}

extension SQLiteValue: SQLiteBindable, SQLiteReadable {
    public var sqliteValue: SQLiteValue { self }
    public init(sqliteValue: SQLiteValue) { self = sqliteValue }
}

extension Int64: SQLiteBindable, SQLiteReadable {
    public var sqliteValue: SQLiteValue { .integer(self) }
    public init(sqliteValue: SQLiteValue) throws(SQLiteError) {
        guard case .integer(let value) = sqliteValue else { throw .mismatch(sqliteValue, "Int64") }
        self = value
    }
}

extension Int: SQLiteBindable, SQLiteReadable {
    public var sqliteValue: SQLiteValue { .integer(Int64(self)) }
    public init(sqliteValue: SQLiteValue) throws(SQLiteError) {
        self = Int(try Int64(sqliteValue: sqliteValue))
    }
}

extension Bool: SQLiteBindable, SQLiteReadable {
    public var sqliteValue: SQLiteValue { .integer(self ? 1 : 0) }
    public init(sqliteValue: SQLiteValue) throws(SQLiteError) {
        self = try Int64(sqliteValue: sqliteValue) != 0
    }
}

extension Double: SQLiteBindable, SQLiteReadable {
    public var sqliteValue: SQLiteValue { .real(self) }
    public init(sqliteValue: SQLiteValue) throws(SQLiteError) {
        switch sqliteValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)  // SQLite stores integral REALs as integers
        default: throw .mismatch(sqliteValue, "Double")
        }
    }
}

extension String: SQLiteBindable, SQLiteReadable {
    public var sqliteValue: SQLiteValue { .text(self) }
    public init(sqliteValue: SQLiteValue) throws(SQLiteError) {
        guard case .text(let value) = sqliteValue else { throw .mismatch(sqliteValue, "String") }
        self = value
    }
}

extension Array: SQLiteBindable, SQLiteReadable where Element == UInt8 {
    public var sqliteValue: SQLiteValue { .blob(self) }
    public init(sqliteValue: SQLiteValue) throws(SQLiteError) {
        switch sqliteValue {
        case .blob(let value): self = value
        case .text(let value): self = Array(value.utf8)
        default: throw .mismatch(sqliteValue, "[UInt8]")
        }
    }
}

extension Optional: SQLiteBindable where Wrapped: SQLiteBindable {
    public var sqliteValue: SQLiteValue { self?.sqliteValue ?? .null }
}

extension Optional: SQLiteReadable where Wrapped: SQLiteReadable {
    public init(sqliteValue: SQLiteValue) throws(SQLiteError) {
        self = sqliteValue == .null ? nil : try Wrapped(sqliteValue: sqliteValue)
    }
}

extension SQLiteError {
    /// A type mismatch that names the storage class found, never the value.
    static func mismatch(_ found: SQLiteValue, _ expected: String) -> SQLiteError {
        let storage: String
        switch found {
        case .null: storage = "NULL"
        case .integer: storage = "INTEGER"
        case .real: storage = "REAL"
        case .text: storage = "TEXT"
        case .blob: storage = "BLOB"
        }
        return SQLiteError(.typeMismatch, message: "a column holding \(storage) was read as \(expected)")
    }
}
