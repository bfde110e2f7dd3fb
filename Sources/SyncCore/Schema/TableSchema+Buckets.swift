extension TableSchema {
    /// The buckets a row is in, from its merged fields.
    ///
    /// - Parameters:
    ///   - record: The row's id (for rules on `id`).
    ///   - state: The row's merged state.
    ///   - parentBuckets: The buckets of the row of `table` with `id`, for ``BucketRule/parent(_:table:)``
    ///     rules; the store answers it (a visit is in its customer's buckets).
    public func buckets(
        of record: RecordID, state: RecordState, parentBuckets: (_ table: String, _ id: RecordID) -> Set<String>
    ) -> Set<String> {
        var buckets = Set<String>()
        for rule in self.buckets {
            switch rule {
            case .constant(let name):
                buckets.insert(name)
            case .field(let field, let prefix):
                if field == "id" {
                    buckets.insert("\(prefix):\(record.uuidString)")
                } else if case .id(let value)? = state.fields[field]?.value {
                    buckets.insert("\(prefix):\(value.uuidString)")
                }
            case .parent(let field, let table):
                if case .id(let parent)? = state.fields[field]?.value {
                    buckets.formUnion(parentBuckets(table, parent))
                }
            }
        }
        return buckets
    }
}
