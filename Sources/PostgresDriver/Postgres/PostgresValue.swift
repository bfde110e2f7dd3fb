public import SyncCore

/// A query parameter as it travels to PostgreSQL: text, or bytes sent in binary format.
///
/// FieldSync sends parameters in PostgreSQL's text format (the server parses them into the
/// column's type) and byte strings in binary format (so `bytea` needs no escaping; a typed batch
/// insert's columns travel as binary arrays the same way, `PostgresBinaryArray`), and reads
/// results in text format. That keeps the wrapper small and exact: integers and `numeric` money
/// never pass through a floating-point type.
public enum PostgresValue: Hashable, Sendable {
    /// SQL NULL.
    case null
    /// A value in PostgreSQL's text format.
    case text(String)
    /// Raw bytes, sent as a binary `bytea` parameter.
    case bytes([UInt8])
    /// An integer: sent as its decimal text, and in a typed insert's integer column in binary
    /// (no string is made for it either way but the parameter's).
    case integer(Int64)
    /// A UUID: sent as its text form, and in a typed insert's `uuid` column in binary.
    case uuid(RecordID)
}

/// A Swift value that can be sent as a query parameter.
public protocol PostgresBindable: Sendable {
    /// The value as it is sent to the server.
    var postgresValue: PostgresValue { get }
}

/// A Swift value that can be read from a result column in text format.
public protocol PostgresReadable: Sendable {
    /// Parses the column's text; throws ``PostgresError/Code/typeMismatch`` when it does not fit.
    init(postgresText text: String) throws(PostgresError)
    /// Parses the column's text as UTF-8 bytes, as a result holds them; by default through
    /// ``init(postgresText:)-(String)``. The driver's numbers parse the bytes directly.
    init(postgresText text: UnsafeBufferPointer<UInt8>) throws(PostgresError)
}

extension PostgresReadable {
    public init(postgresText text: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        try self.init(postgresText: String(decoding: text, as: UTF8.self))
    }
}

extension PostgresValue: PostgresBindable {
    public var postgresValue: PostgresValue { self }
}

extension String: PostgresBindable, PostgresReadable {
    public var postgresValue: PostgresValue { .text(self) }
    public init(postgresText text: String) { self = text }
}

extension Int: PostgresBindable, PostgresReadable {
    public var postgresValue: PostgresValue { .text(String(self)) }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int(text) else { throw .mismatch("Int") }
        self = value
    }
}

extension Int64: PostgresBindable, PostgresReadable {
    public var postgresValue: PostgresValue { .text(String(self)) }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int64(text) else { throw .mismatch("Int64") }
        self = value
    }
}

extension Int32: PostgresBindable, PostgresReadable {
    public var postgresValue: PostgresValue { .text(String(self)) }
    public init(postgresText text: String) throws(PostgresError) {
        guard let value = Int32(text) else { throw .mismatch("Int32") }
        self = value
    }
}

extension Bool: PostgresBindable, PostgresReadable {
    public var postgresValue: PostgresValue { .text(self ? "t" : "f") }
    public init(postgresText text: String) throws(PostgresError) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw .mismatch("Bool")
        }
    }
    public init(postgresText text: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        switch text.count == 1 ? text[0] : 0 {
        case UInt8(ascii: "t"): self = true
        case UInt8(ascii: "f"): self = false
        default: try self.init(postgresText: String(decoding: text, as: UTF8.self))
        }
    }
}

extension Double: PostgresBindable, PostgresReadable {
    public var postgresValue: PostgresValue {
        if isNaN { return .text("NaN") }
        if isInfinite { return .text(self < 0 ? "-Infinity" : "Infinity") }
        return .text(String(self))  // the shortest text that reads back to the same Double
    }
    public init(postgresText text: String) throws(PostgresError) {
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw .mismatch("Double") }
            self = value
        }
    }
}

extension Array: PostgresBindable, PostgresReadable where Element == UInt8 {
    public var postgresValue: PostgresValue { .bytes(self) }
    /// Reads `bytea` in its text output format, `\x` followed by hex digits.
    public init(postgresText text: String) throws(PostgresError) {
        var text = text
        let bytes = text.withUTF8 { digits -> [UInt8]? in
            guard digits.starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "x")]) else { return nil }
            return Hex.decode(UnsafeBufferPointer(rebasing: digits.dropFirst(2)), allowingUppercase: true)
        }
        guard let bytes else { throw .mismatch("[UInt8] (bytea in hex format)") }
        self = bytes
    }
}

extension PostgresReadable where Self: FixedWidthInteger & SignedInteger {
    /// An integer column's bytes, parsed without making a string (``decimal(_:)``).
    public init(postgresText text: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        guard let value = Self.decimal(text) else { throw .mismatch("\(Self.self)") }
        self = value
    }
}

extension FixedWidthInteger where Self: SignedInteger {
    /// Parses a decimal integer in PostgreSQL's text output (an optional sign, then digits) as
    /// `Int64(_:)` does a string, without making one; `nil` when it does not fit.
    static func decimal(_ text: UnsafeBufferPointer<UInt8>) -> Self? {
        var index = 0
        var negative = false
        if let sign = text.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            index = 1
        }
        guard index < text.count else { return nil }
        var value: Self = 0
        while index < text.count {
            let digit = text[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, overflowShifting) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowAdding) = negative ? shifted.subtractingReportingOverflow(Self(digit)) : shifted.addingReportingOverflow(Self(digit))
            guard !overflowShifting, !overflowAdding else { return nil }
            value = next
            index += 1
        }
        return value
    }
}

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public var postgresValue: PostgresValue { self?.postgresValue ?? .null }
}

extension PostgresError {
    /// A column that does not parse as `type`; the column's text is not repeated.
    static func mismatch(_ type: String) -> PostgresError {
        PostgresError(.typeMismatch, message: "a column's text does not parse as \(type)")
    }
}
