import Foundation
public import SyncCore

/// PostgreSQL array literals, for binding a list as one text parameter (`$1::uuid[]`, `$1::text[]`).
public enum PostgresArray {
    /// `{"a","b"}`: every element quoted, backslashes and quotes escaped.
    public static func literal(_ values: [String]) -> String {
        "{" + values.map(quoted).joined(separator: ",") + "}"
    }

    /// One element, quoted: a quoted `NULL` is the text, never SQL NULL (the literal of
    /// ``PostgresValue``s writes SQL NULL unquoted).
    static func quoted(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else { return "\"" + value + "\"" }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A list as one array parameter: in `array_recv`'s binary format when `element` (the type of
    /// the array's elements the statement casts the parameter to, `uuid` for `$2::uuid[]`) has one
    /// here and every value fits it, else as a literal.
    public static func parameter(_ values: some Collection<PostgresValue>, of element: String) -> PostgresValue {
        if let type = PostgresBinaryArray.Element(element), let array = PostgresBinaryArray.encode(values, as: type) { return .bytes(array) }
        return .text(literal(values))
    }

    /// Ids as one `uuid[]` parameter in binary format (the statement casts it: `$2::uuid[]`).
    public static func uuids(_ ids: some Collection<RecordID>) -> PostgresValue { parameter(ids.map { .uuid($0) }, of: "uuid") }

    /// Integers as one `bigint[]` parameter in binary format (the statement casts it: `$1::bigint[]`).
    public static func bigints(_ values: some Collection<Int64>) -> PostgresValue { parameter(values.map { .integer($0) }, of: "bigint") }

    /// An array literal in text format, `{"text",NULL,"\\x0a1b"}`: each element quoted, SQL NULL
    /// unquoted, bytes in `bytea`'s hex form.
    static func literal(_ values: some Collection<PostgresValue>) -> String {
        var literal = "{"
        for (number, value) in values.enumerated() {
            if number > 0 { literal += "," }
            switch value {
            case .null: literal += "NULL"
            case .text(let text): literal += quoted(text)
            case .integer(let value): literal += String(value)
            case .uuid(let id): literal += id.uuidString
            // bytea's hex form, its backslash escaped for the array; hex digits need nothing.
            case .bytes(let bytes): literal += "\"\\\\x" + Hex.string(bytes) + "\""
            }
        }
        return literal + "}"
    }
}
