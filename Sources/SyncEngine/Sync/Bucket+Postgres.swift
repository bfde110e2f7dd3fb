public import PostgresDriver
public import SyncCore

/// A bucket is stored by its name (`row_buckets.bucket`, `change_log.bucket`, `row_departures.bucket`).
extension Bucket: PostgresBindable, PostgresReadable {
    public var postgresValue: PostgresValue { .text(name) }
    public init(postgresText text: String) { self.init(text) }
}

extension PostgresArray {
    /// `{"catalog","territory:…"}`: buckets as one `text[]` parameter.
    public static func literal(_ buckets: some Collection<Bucket>) -> String { literal(buckets.map(\.name)) }
}
