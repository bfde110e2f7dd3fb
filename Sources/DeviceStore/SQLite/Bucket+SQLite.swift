public import SyncCore

/// A bucket is stored by its name (`row_buckets.bucket`, `bucket_cursors.bucket`).
extension Bucket: SQLiteBindable, SQLiteReadable {
    public var sqliteValue: SQLiteValue { .text(name) }
    public init(sqliteValue: SQLiteValue) throws(SQLiteError) { self.init(try String(sqliteValue: sqliteValue)) }
}
