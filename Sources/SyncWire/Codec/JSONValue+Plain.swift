public import SyncCore

/// Plain JSON for people and scripts (the office API, `fieldsim --json`): field values as their
/// natural JSON (a state as its name, an id as its text, a counter as its sum), not the typed
/// JSON form of the protocol's messages.
extension JSONValue {
    /// An object with `members`, in order.
    public static func fields(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(members.map { Member($0.0, $0.1) })
    }

    /// A string, or `null`.
    public static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    /// A whole number, or `null`.
    public static func integer(_ value: Int64?) -> JSONValue { value.map { .number(String($0)) } ?? .null }

    /// A field's value in plain JSON, `null` for none.
    public static func plain(_ value: FieldValue?) -> JSONValue {
        switch value {
        case nil, .null?: .null
        case .bool(let flag)?: .bool(flag)
        case .integer(let number)?, .timestamp(let number)?: .number(String(number))
        case .text(let text)?: .string(text)
        case .id(let id)?: .string(id.uuidString)
        case .state(let state)?: .string(state.name)
        case .counter(let counter)?: .number(String(counter.sum))
        }
    }

    /// A record's fields in plain JSON, by name; `null` for no record.
    public static func plain(_ state: RecordState?) -> JSONValue {
        guard let state else { return .null }
        return .object(state.fields.sorted { $0.key < $1.key }.map { Member($0.key, plain($0.value.value)) })
    }

    /// An object's member, if this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The text of a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
