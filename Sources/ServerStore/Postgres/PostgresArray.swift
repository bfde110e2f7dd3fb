import Foundation
public import SyncCore

/// PostgreSQL array literals, for binding a list as one text parameter (`$1::uuid[]`, `$1::text[]`).
public enum PostgresArray {
    /// `{"a","b"}`: every element quoted, backslashes and quotes escaped.
    public static func literal(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "}"
    }

    /// The literal of a list of ids.
    public static func literal(_ ids: [RecordID]) -> String { literal(ids.map(\.uuidString)) }
}
