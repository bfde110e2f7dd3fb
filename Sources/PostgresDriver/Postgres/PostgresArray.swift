import Foundation

/// PostgreSQL array literals, for binding a list as one text parameter (`$1::uuid[]`, `$1::text[]`).
public enum PostgresArray {
    /// `{"a","b"}`: every element quoted, backslashes and quotes escaped.
    public static func literal(_ values: [String]) -> String {
        "{" + values.map(quoted).joined(separator: ",") + "}"
    }

    /// `{"a",NULL,"b"}`: `nil` elements are SQL NULL, the others quoted as in ``literal(_:)-([String])``.
    /// A column of rows, for inserting many rows in one statement through `unnest($1::bigint[], …)`.
    public static func literal(_ values: [String?]) -> String {
        "{" + values.map { $0.map(quoted) ?? "NULL" }.joined(separator: ",") + "}"
    }

    /// One element, quoted: a quoted `NULL` is the text, never SQL NULL.
    static func quoted(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else { return "\"" + value + "\"" }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
