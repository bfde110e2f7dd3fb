import SyncCore

/// Typed reads of a record's fields, for the actions.
extension RecordState {
    /// A field's value, if set.
    func value(_ field: String) -> FieldValue? { fields[field]?.value }

    func id(_ field: String) -> RecordID? {
        if case .id(let id)? = value(field) { return id }
        return nil
    }

    func integer(_ field: String) -> Int64? {
        if case .integer(let value)? = value(field) { return value }
        return nil
    }

    func text(_ field: String) -> String? {
        if case .text(let value)? = value(field) { return value }
        return nil
    }

    func state(_ field: String = "status") -> StateValue? {
        if case .state(let value)? = value(field) { return value }
        return nil
    }
}
