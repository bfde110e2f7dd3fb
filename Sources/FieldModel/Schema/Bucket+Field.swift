public import SyncCore

/// The buckets of the field-sales schema, named in one place: the schema's bucket rules, the
/// server's audience of a user and the tests all use these.
extension Bucket {
    /// The catalogue (products, price lists, warehouses, settings): every user syncs it.
    public static let catalog: Bucket = "catalog"

    /// The prefix of a territory's bucket: its customers and everything under them.
    public static let territoryPrefix = "territory"

    /// The prefix of a manager's team bucket: the manager's reps.
    public static let teamPrefix = "team"

    /// A territory's bucket.
    public static func territory(_ territory: RecordID) -> Bucket { Bucket(territoryPrefix, territory) }

    /// A manager's team bucket.
    public static func team(_ manager: RecordID) -> Bucket { Bucket(teamPrefix, manager) }
}
