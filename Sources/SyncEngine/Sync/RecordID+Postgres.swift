public import PostgresDriver
public import SyncCore

/// A record id is read from a `uuid` column (or its `::text`), parsed from the result's bytes.
extension RecordID: PostgresReadable {
    public init(postgresText text: String) throws(PostgresError) {
        guard let id = RecordID(text) else { throw PostgresError(.typeMismatch, message: "a column's text is not a UUID") }
        self = id
    }

    public init(postgresText text: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        guard let id = RecordID(utf8: text) else { throw PostgresError(.typeMismatch, message: "a column's text is not a UUID") }
        self = id
    }
}
