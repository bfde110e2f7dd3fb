import FieldModel
public import SyncCore

/// What a local action did: the change set it queued and the warnings the device's preview of
/// the server's rules raised. Warnings never stop a fact from being recorded.
public struct ActionReport: Sendable {
    /// The id of the record the action created or changed most.
    public var record: RecordID
    /// The change set queued in the outbox.
    public var changeSet: ChangeSet?
    /// Rules that would flag the action on arrival (the server decides).
    public var warnings: [RuleFinding]
}

extension LocalSession {
    /// Moves a status field along its state machine, as `role`.
    mutating func move(_ table: String, _ id: RecordID, to target: String, machine: StateMachine, role: Role?, also fields: [(String, FieldValue)] = [], in db: isolated SQLiteDatabase) throws {
        let current = try existing(table, id, in: db)
        guard case .state(let state)? = current.fields["status"]?.value else {
            throw StoreError(.invalidArgument, "\(table) \(id.uuidString) has no status")
        }
        let next: StateValue
        do {
            next = try machine.move(from: state, to: target, by: role)
        } catch {
            throw StoreError(.forbiddenTransition, error.message)
        }
        try write(table, id, [("status", .state(next))] + fields, in: db)
    }
}
