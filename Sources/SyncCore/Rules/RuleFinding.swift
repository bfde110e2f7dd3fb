/// A rule that fired on arrival: what it found and whether it blocks the change.
///
/// The engine's own rules (scope, field access, state moves, identity, references, clocks) are
/// named here; the business rules name theirs where they live (`FieldModel`). Device facts (time,
/// place, photo, signature) are judged as of device time, money and stock as of arrival; most
/// business rules flag (`applied_with_exception`) rather than reject, because a fact captured in
/// the field must never be lost.
public struct RuleFinding: Hashable, Sendable, CustomStringConvertible {
    /// Which rule fired; stable names listed in `SyncProtocol/`.
    public struct Rule: Hashable, Sendable, CustomStringConvertible {
        /// The rule's stable name.
        public let name: String
        /// Creates a rule name.
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        // The engine's admission: who may write what, where, when.

        /// §3.5: written while the author still had the record, which has since left the author's buckets.
        public static let noLongerOwned = Rule("no_longer_owned")
        /// §3.3: the author's role may not write the field.
        public static let forbiddenField = Rule("forbidden_field")
        /// §3.5: the record is outside the author's buckets at the change's time.
        public static let forbiddenRecord = Rule("forbidden_record")
        /// §2: the author's role may not move the record to that state from where it stands (or
        /// create it in that state, or reopen it so).
        public static let forbiddenTransition = Rule("forbidden_transition")
        /// §3: a field that names its author (`created_by`, `user_id`, `collected_by`…) names
        /// someone else.
        public static let foreignIdentity = Rule("foreign_identity")
        /// §3.5: a reference names a record that does not exist, or one outside the author's
        /// buckets at the change's time.
        public static let unknownReference = Rule("unknown_reference")
        /// §3.2: the change's clock is older than what its replica already pushed, or than the
        /// replica's registration: a backdated clock.
        public static let clockBehind = Rule("clock_behind")
        /// The change set was in flight twice when the server process died: it is refused rather
        /// than run a third time, and waits for review.
        public static let serverFault = Rule("server_fault")
    }

    /// Which rule fired.
    public var rule: Rule
    /// What it found, without customer data.
    public var message: String

    /// Creates a finding.
    public init(_ rule: Rule, _ message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(rule): \(message)" }
}
