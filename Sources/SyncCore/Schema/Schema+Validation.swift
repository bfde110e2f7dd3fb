/// Why a change does not fit the schema. The server rejects such a change (outcome `rejected`,
/// reason = the code) and the device refuses to record it; the message names tables and fields,
/// never values.
public struct ChangeViolation: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of violation; its name is the rejection reason on the wire.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name.
        public let name: String
        /// Creates a code.
        public init(_ name: String) { self.name = name }
        /// No such table.
        public static let unknownTable = Code("unknown_table")
        /// No such field in the table.
        public static let unknownField = Code("unknown_field")
        /// A field written twice in one change.
        public static let duplicateField = Code("duplicate_field")
        /// A value of the wrong type for its field.
        public static let wrongType = Code("wrong_type")
        /// Text longer than the field allows.
        public static let tooLong = Code("too_long")
        /// NULL for a field that must have a value.
        public static let nullNotAllowed = Code("null_not_allowed")
        /// A state the field's state machine does not have.
        public static let unknownState = Code("unknown_state")
        /// A counter write that is not exactly the author's own contribution at the change's clock.
        public static let foreignContribution = Code("foreign_contribution")
        /// A blob reference that is not a SHA-256 in lower-case hex.
        public static let invalidBlobReference = Code("invalid_blob_reference")
        /// A delete of an append-only record, or a write with no fields.
        public static let invalidOperation = Code("invalid_operation")
        /// A number, amount, time or counter outside its field's range.
        public static let outOfRange = Code("out_of_range")
        /// Text holding U+0000, or a value outside its field's vocabulary.
        public static let invalidText = Code("invalid_text")
        public var description: String { name }
    }

    /// The kind of violation.
    public var code: Code
    /// Which table and field, and what is wrong.
    public var message: String

    /// Creates a violation.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension Schema {
    /// The length of a blob reference: a SHA-256 in lower-case hex.
    public static let blobReferenceLength = 64
    /// The most bytes one blob (a photo, a signature) may have: the phone refuses to keep more,
    /// and the server to store more.
    public static let blobBytesMax = 16 << 20

    /// Checks that `change` fits the schema: its table and fields exist, each value has its
    /// field's type, length and range, text holds no U+0000 and keeps to its vocabulary, required
    /// fields are not null, states belong to their machine, a counter write carries only the
    /// author's own contribution, and append-only records are never deleted.
    public func validate(_ change: Change) throws(ChangeViolation) {
        guard let table = table(change.table) else {
            throw ChangeViolation(.unknownTable, "no table \(change.table)")
        }
        guard case .write(let writes) = change.operation else {
            if table.kind == .appendOnly { throw ChangeViolation(.invalidOperation, "\(table.name) records are never deleted") }
            return
        }
        guard !writes.isEmpty else { throw ChangeViolation(.invalidOperation, "a write to \(table.name) with no fields") }
        var seen = Set<String>()
        for write in writes {
            guard let field = table.field(write.field) else {
                throw ChangeViolation(.unknownField, "\(table.name) has no field \(write.field)")
            }
            guard seen.insert(write.field).inserted else {
                throw ChangeViolation(.duplicateField, "\(table.name).\(write.field) is written twice")
            }
            try Self.check(write.value, against: field, in: table.name, author: change.version)
        }
    }

    static func check(_ value: FieldValue, against field: FieldSchema, in table: String, author: Version) throws(ChangeViolation) {
        let place = "\(table).\(field.name)"
        func inRange(_ number: Int64) throws(ChangeViolation) {
            guard let range = field.range, !range.contains(number) else { return }
            throw ChangeViolation(.outOfRange, "\(place) runs from \(range.lowerBound) to \(range.upperBound)")
        }
        switch (field.type, value) {
        case (_, .null):
            guard field.optional else { throw ChangeViolation(.nullNotAllowed, "\(place) must have a value") }
        case (.bool, .bool), (.reference, .id):
            break
        case (.integer, .integer(let number)), (.money, .integer(let number)), (.decimal, .integer(let number)), (.timestamp, .timestamp(let number)):
            try inRange(number)
        case (.text(let maxLength), .text(let text)):
            guard text.utf8.count <= maxLength else { throw ChangeViolation(.tooLong, "\(place) holds at most \(maxLength) bytes") }
            guard !text.utf8.contains(0) else { throw ChangeViolation(.invalidText, "\(place) may not hold U+0000") }
            if let vocabulary = field.vocabulary, !vocabulary.contains(text) {
                throw ChangeViolation(.invalidText, "\(place) is one of \(vocabulary.joined(separator: ", "))")
            }
        case (.blobReference, .text(let text)):
            guard text.utf8.count == blobReferenceLength,
                  text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
            else { throw ChangeViolation(.invalidBlobReference, "\(place) must be a SHA-256 in lower-case hex") }
        case (.state(let order), .state(let state)):
            guard order.rank(of: state.name) != nil else { throw ChangeViolation(.unknownState, "\(place) has no state \(state.name)") }
        case (.counter, .counter(let counter)):
            guard counter.contributions.count == 1, let mine = counter.contributions[author.replica], mine.clock == author.clock else {
                throw ChangeViolation(.foreignContribution, "\(place): a write carries only its author's own contribution, at the change's clock")
            }
            try inRange(mine.total)
        default:
            throw ChangeViolation(.wrongType, "\(place) does not hold that kind of value")
        }
    }
}
