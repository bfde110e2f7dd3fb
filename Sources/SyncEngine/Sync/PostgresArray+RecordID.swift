public import PostgresDriver
public import SyncCore

extension PostgresArray {
    /// The literal of a list of record ids (which need no quotes), for `$1::uuid[]`.
    public static func literal(_ ids: [RecordID]) -> String { "{" + ids.map(\.uuidString).joined(separator: ",") + "}" }
}
