import Foundation

/// PostgreSQL array literals, for binding a list as one text parameter (`$1::uuid[]`, `$1::text[]`).
public enum PostgresArray {
    /// `{"a","b"}`: every element quoted, backslashes and quotes escaped.
    public static func literal(_ values: [String]) -> String {
        "{" + values.map(quoted).joined(separator: ",") + "}"
    }

    /// One element, quoted: a quoted `NULL` is the text, never SQL NULL (``PostgresBatch`` writes
    /// SQL NULL unquoted).
    static func quoted(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else { return "\"" + value + "\"" }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
