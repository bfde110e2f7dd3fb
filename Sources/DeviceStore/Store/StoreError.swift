import SyncCore

/// An error from the device store: a refused action, or a storage failure underneath.
///
/// A refused action changes nothing (its transaction rolls back). ``description`` names records by
/// table and id only, never customer data.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of error.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        /// The record does not exist on this device (or reads as deleted).
        public static let unknownRecord = Code("unknown_record")
        /// An argument is out of range: a negative quantity, an empty reason, a value the schema refuses.
        public static let invalidArgument = Code("invalid_argument")
        /// A photo or signature is larger than the schema allows (``SyncCore/Schema/blobBytesMax``).
        public static let tooLarge = Code("too_large")
        /// The state machine forbids the move.
        public static let forbiddenTransition = Code("forbidden_transition")
        /// The store is not registered with a server yet (no replica number).
        public static let notRegistered = Code("not_registered")
        /// The store file was written by a newer app than this one.
        public static let newerStore = Code("newer_store")
        /// SQLite failed; ``StoreError/underlying`` says how.
        public static let storage = Code("storage")
        public var description: String { name }
    }

    /// What kind of error.
    public var code: Code
    /// What was refused and why.
    public var message: String
    /// The error underneath, if any.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        underlying.map { "\(code): \(message) (\($0))" } ?? "\(code): \(message)"
    }

    static func unknown(_ table: String, _ id: RecordID) -> StoreError {
        StoreError(.unknownRecord, "no \(table) record \(id.uuidString) on this device")
    }
}
