import Foundation
import SyncCore

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
