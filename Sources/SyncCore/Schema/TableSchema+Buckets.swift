extension TableSchema {
    /// The buckets a row is in, from its merged fields.
    ///
    /// - Parameters:
    ///   - record: The row's id (for rules on `id`).
    ///   - state: The row's merged state.
    ///   - parentBuckets: The buckets the row of `table` with `id` passes on (its buckets through
    ///     the parent table's ``inheritable(_:)``), for ``BucketRule/parent(_:table:)`` rules; the
    ///     store answers it (a visit is in its customer's buckets).
    ///   - referrers: For ``BucketRule/referrers(_:through:field:prefix:)`` rules, the values of
    ///     `field` (record ids) of the live rows of `table` whose `through` refers to `record`.
    public func buckets(
        of record: RecordID, state: RecordState, parentBuckets: (_ table: String, _ id: RecordID) -> Set<Bucket>,
        referrers: (_ table: String, _ through: String, _ field: String, _ id: RecordID) -> Set<RecordID> = { _, _, _, _ in [] }
    ) -> Set<Bucket> {
        var buckets = Set<Bucket>()
        for rule in self.buckets {
            switch rule {
            case .constant(let name):
                buckets.insert(Bucket(name))
            case .field(let field, let prefix):
                if field == "id" {
                    buckets.insert(Bucket(prefix, record))
                } else if case .id(let value)? = state.fields[field]?.value {
                    buckets.insert(Bucket(prefix, value))
                }
            case .parent(let field, let table):
                if case .id(let parent)? = state.fields[field]?.value {
                    buckets.formUnion(parentBuckets(table, parent))
                }
            case .referrers(let table, let through, let field, let prefix):
                for value in referrers(table, through, field, record) { buckets.insert(Bucket(prefix, value)) }
            }
        }
        return buckets
    }
}

extension TableSchema {
    /// The tables whose rows place this table's rows in buckets through
    /// ``BucketRule/referrers(_:through:field:prefix:)`` rules, with the field that refers here.
    public var referrerRules: [(table: String, through: String)] {
        buckets.compactMap { if case .referrers(let table, let through, _, _) = $0 { (table, through) } else { nil } }
    }

    /// The part of a row's `buckets` its children inherit through ``BucketRule/parent(_:table:)``:
    /// all but the buckets it is in through a referrers rule (whose prefix no other rule of the
    /// table uses; the schema checks that).
    public func inheritable(_ buckets: Set<Bucket>) -> Set<Bucket> {
        let prefixes = self.buckets.compactMap { if case .referrers(_, _, _, let prefix) = $0 { prefix } else { nil } }
        guard !prefixes.isEmpty else { return buckets }
        return buckets.filter { bucket in !prefixes.contains { bucket.prefix == $0 } }
    }
}
