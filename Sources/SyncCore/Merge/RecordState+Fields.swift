/// Typed reads of a record's fields, for the device's actions and the server's rules.
extension RecordState {
    /// A field's value, if set.
    public func value(_ field: String) -> FieldValue? { fields[field]?.value }

    /// A reference field's id, if set.
    public func id(_ field: String) -> RecordID? {
        if case .id(let id)? = value(field) { return id }
        return nil
    }

    /// An integer, money or decimal field's value, if set.
    public func integer(_ field: String) -> Int64? {
        if case .integer(let value)? = value(field) { return value }
        return nil
    }

    /// A timestamp field's value (milliseconds since the epoch), if set.
    public func timestamp(_ field: String) -> Int64? {
        if case .timestamp(let value)? = value(field) { return value }
        return nil
    }

    /// A text field's value, if set.
    public func text(_ field: String) -> String? {
        if case .text(let value)? = value(field) { return value }
        return nil
    }

    /// A boolean field's value, if set.
    public func bool(_ field: String) -> Bool? {
        if case .bool(let value)? = value(field) { return value }
        return nil
    }

    /// A state field's value, if set.
    public func state(_ field: String = "status") -> StateValue? {
        if case .state(let value)? = value(field) { return value }
        return nil
    }
}

extension Change {
    /// The value this change writes to `field`, if it writes it.
    public func written(_ field: String) -> FieldValue? {
        guard case .write(let writes) = operation else { return nil }
        return writes.last { $0.field == field }?.value
    }

    /// The state this change writes to `field`, if it writes one.
    public func writtenState(_ field: String = "status") -> String? {
        if case .state(let value)? = written(field) { return value.name }
        return nil
    }

    /// Whether this change creates its record: it writes a record that `before` did not hold.
    public func creates(given before: RecordState?) -> Bool {
        if case .write = operation { return before == nil }
        return false
    }
}
