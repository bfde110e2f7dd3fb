/// The description of every table that syncs: its fields, each field's type and merge policy,
/// who may write it, the table's tombstone policy and how a row's buckets follow from its fields.
///
/// One place declares a table (`FieldModel`); the SQLite and PostgreSQL schemas, the merge, the
/// wire validation and the authorization all read this description.
public struct Schema: Sendable {
    /// The schema's revision, bumped with every change to the description.
    public let revision: Int
    /// The tables, in an order in which references point to earlier tables.
    public let tables: [TableSchema]
    private let index: [String: Int]

    /// Creates a schema and checks it is consistent.
    /// - Throws: ``SchemaError`` naming the first inconsistency.
    public init(revision: Int, tables: [TableSchema]) throws(SchemaError) {
        self.revision = revision
        self.tables = tables
        var index: [String: Int] = [:]
        for (position, table) in tables.enumerated() {
            guard index.updateValue(position, forKey: table.name) == nil else {
                throw SchemaError("table \(table.name) is declared twice")
            }
        }
        self.index = index
        for table in tables { try table.validate(in: self) }
    }

    /// The table called `name`.
    public func table(_ name: String) -> TableSchema? { index[name].map { tables[$0] } }

    /// Where the table called `name` stands in ``tables``: a table that others refer to (a
    /// parent) stands before them, so sorting by position places parents first.
    public func position(of name: String) -> Int? { index[name] }
}

/// One table.
public struct TableSchema: Sendable {
    /// The table's name, `snake_case`, plural.
    public let name: String
    /// Whether rows are mutable records or append-only facts.
    public let kind: Kind
    /// What a delete does against concurrent updates.
    public let tombstones: TombstonePolicy
    /// The fields, in declaration order (`id` is implicit and not listed).
    public let fields: [FieldSchema]
    /// How the row's buckets follow from its fields.
    public let buckets: [BucketRule]
    /// What a phone keeps of the table's rows (see ``PhoneWindow``).
    public let phoneWindow: PhoneWindow
    private let fieldIndex: [String: Int]

    /// Mutable records, or facts that are only ever inserted.
    public enum Kind: Hashable, Sendable {
        /// Fields change over time and merge by their policies.
        case record
        /// Inserted once, keyed by id; a duplicate insert is a no-op; never updated or deleted.
        case appendOnly
    }

    /// Creates a table description.
    public init(name: String, kind: Kind = .record, tombstones: TombstonePolicy = .deleteWins, fields: [FieldSchema], buckets: [BucketRule],
                phoneWindow: PhoneWindow = .always) {
        self.name = name
        self.phoneWindow = phoneWindow
        self.kind = kind
        self.tombstones = kind == .appendOnly ? .none : tombstones
        self.fields = fields
        self.buckets = buckets
        self.fieldIndex = Dictionary(fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The field called `name`.
    public func field(_ name: String) -> FieldSchema? { fieldIndex[name].map { fields[$0] } }

    func validate(in schema: Schema) throws(SchemaError) {
        guard fieldIndex.count == fields.count else { throw SchemaError("\(name) declares a field twice") }
        guard field("id") == nil else { throw SchemaError("\(name) declares id, which every table has implicitly") }
        for field in fields {
            switch (field.type, field.policy) {
            case (.state(let typeOrder), .forwardOnly(let policyOrder)) where typeOrder == policyOrder: break
            case (.state, _), (_, .forwardOnly):
                throw SchemaError("\(name).\(field.name): a state field merges forward-only over its own order")
            case (.counter, .counter): break
            case (.counter, _), (_, .counter):
                throw SchemaError("\(name).\(field.name): a counter field merges as a counter")
            default: break
            }
            // An append-only fact is written once by its author; only the server may add to it
            // afterwards (the distance and verification of a check-in).
            if kind == .appendOnly, field.policy != .insertOnce, field.access != .serverOnly {
                throw SchemaError("\(name).\(field.name): a field of an append-only table is insert-once unless only the server writes it")
            }
            if case .reference(let target) = field.type, schema.table(target) == nil {
                throw SchemaError("\(name).\(field.name) refers to unknown table \(target)")
            }
            if let range = field.range, let outer = field.type.defaultRange, !(outer.contains(range.lowerBound) && outer.contains(range.upperBound)) {
                throw SchemaError("\(name).\(field.name): its range lies outside its type's")
            }
            if field.vocabulary != nil, case .text = field.type {} else if field.vocabulary != nil {
                throw SchemaError("\(name).\(field.name): only a text field has a vocabulary")
            }
            if field.author != .none, field.type != .reference("users") {
                throw SchemaError("\(name).\(field.name): only a reference to users names its author")
            }
        }
        for rule in buckets {
            for fieldName in rule.fieldsRead where fieldName != "id" && field(fieldName) == nil {
                throw SchemaError("\(name): a bucket rule reads unknown field \(fieldName)")
            }
            if case .parent(_, let parent) = rule, schema.table(parent) == nil {
                throw SchemaError("\(name): a bucket rule follows unknown table \(parent)")
            }
            if case .referrers(let referrer, let through, let field, _) = rule {
                guard let table = schema.table(referrer), table.field(field) != nil,
                      case .reference(let target)? = table.field(through)?.type, target == name else {
                    throw SchemaError("\(name): a referrers rule needs \(referrer).\(through) referring to \(name) and \(referrer).\(field)")
                }
                let others = buckets.filter { $0 != rule }.compactMap { other -> String? in
                    switch other {
                    case .field(_, let used), .referrers(_, _, _, let used): used
                    case .constant(let bucket): String(bucket.prefix { $0 != ":" })
                    case .parent: nil
                    }
                }
                if case .referrers(_, _, _, let prefix) = rule, others.contains(prefix) {
                    throw SchemaError("\(name): a referrers rule's prefix \(prefix) is used by another of its rules")
                }
            }
        }
        try validatePhoneWindow(in: schema)
    }
}

/// One field.
public struct FieldSchema: Hashable, Sendable {
    /// The field's name, `snake_case`.
    public let name: String
    /// What values it holds.
    public let type: FieldType
    /// Whether it may be null.
    public let optional: Bool
    /// How concurrent writes merge.
    public let policy: MergePolicy
    /// Who may write it.
    public let access: WriteAccess
    /// The values a number, money, decimal, time or counter field may hold: the field's own
    /// declared range, else its type's (``FieldType/defaultRange``). Checked on the device and on
    /// arrival, so that no device value reaches the rules' arithmetic out of range.
    public let range: ClosedRange<Int64>?
    /// For a text field, the only values it may hold (a vocabulary: `check_in`, `check_out`…);
    /// `nil` for free text.
    public let vocabulary: [String]?
    /// Whether the field names its writer: a device or office user may only write their own user
    /// id there (see ``AuthorBinding``).
    public let author: AuthorBinding

    /// Creates a field description.
    ///
    /// - Parameter range: Narrows the type's default range (``FieldType/defaultRange``); it must
    ///   lie inside it.
    public init(_ name: String, _ type: FieldType, optional: Bool = false, policy: MergePolicy = .lastWriterWins, access: WriteAccess,
                range: ClosedRange<Int64>? = nil, vocabulary: [String]? = nil, author: AuthorBinding = .none) {
        self.name = name
        self.type = type
        self.optional = optional
        self.policy = policy
        self.access = access
        self.range = range ?? type.defaultRange
        self.vocabulary = vocabulary
        self.author = author
    }
}

/// Whether a reference to a user must be the writer's own id.
///
/// Identity comes from the bearer token, never from the body: an order's `created_by`, a
/// check-in's `user_id` or a payment's `collected_by` that names someone else is refused
/// (`foreign_identity`), so no user can act as another.
public enum AuthorBinding: Hashable, Sendable {
    /// Any value the writer's role may write.
    case none
    /// Always the writer's own user id (the server itself excepted).
    case always
    /// The writer's own id when the writer's role may set the field only by creating the record
    /// (``WriteAccess/creators``): a rep's ad hoc visit is assigned to the rep, while a dispatcher
    /// assigns anyone.
    case whenCreatorOnly
}

/// The kinds of values a field holds.
public enum FieldType: Hashable, Sendable {
    /// True or false.
    case bool
    /// A 64-bit integer.
    case integer
    /// Money: an integer number of minor units (cents) of the record's currency.
    case money
    /// An exact decimal held as an integer count of 10^-scale units (a tax rate of 8.875 % with
    /// scale 3 is 8875).
    case decimal(scale: Int)
    /// Text of at most `maxLength` UTF-8 bytes.
    case text(maxLength: Int)
    /// A reference to a row of the named table.
    case reference(String)
    /// A point in time.
    case timestamp
    /// A blob (photo, signature) by its SHA-256 in lower-case hex; the bytes are uploaded apart.
    case blobReference
    /// A forward-only state of the given order.
    case state(StateOrder)
    /// A counter.
    case counter

    /// The values a field of this type may hold unless it declares a narrower range; `nil` for
    /// types that hold no number.
    ///
    /// Integers (quantities, meters, counts) lie within ±10^9, money within ±10^15 minor units,
    /// decimals within ±10^12 units of their scale, counters' contributions within ±10^12, and
    /// times between the Unix epoch and 2100-01-01 UTC. The bounds keep every sum and difference the
    /// rules compute far inside 64 bits.
    public var defaultRange: ClosedRange<Int64>? {
        switch self {
        case .integer: FieldType.integerRange
        case .money: FieldType.moneyRange
        case .decimal: -1_000_000_000_000...1_000_000_000_000
        case .timestamp: FieldType.timestampRange
        case .counter: -1_000_000_000_000...1_000_000_000_000
        case .bool, .text, .reference, .blobReference, .state: nil
        }
    }

    /// The default range of integers: ±10^9.
    public static let integerRange: ClosedRange<Int64> = -1_000_000_000...1_000_000_000
    /// The range of money, in minor units: ±10^15.
    public static let moneyRange: ClosedRange<Int64> = -1_000_000_000_000_000...1_000_000_000_000_000
    /// The range of times, in milliseconds since the epoch: 1970-01-01 to 2100-01-01 UTC.
    public static let timestampRange: ClosedRange<Int64> = 0...4_102_444_800_000
}

/// What a delete does when an update to the same row happens concurrently.
public enum TombstonePolicy: Hashable, Sendable {
    /// Once deleted, the row stays deleted, whatever updates arrive (later updates still merge
    /// into the hidden fields, so nothing is lost).
    case deleteWins
    /// An update newer than the delete brings the row back.
    case updateWins
    /// Rows are never deleted (append-only tables).
    case none
}

/// How one of a row's buckets follows from its fields.
public enum BucketRule: Hashable, Sendable {
    /// Every row is in this bucket (`catalog`).
    case constant(String)
    /// The bucket `prefix:value` for the value of `field` (`territory:<territory_id>`); none when
    /// null. `id` names the row's own id (`user:<id>` for a user).
    case field(String, prefix: String)
    /// Every bucket the row of `table` that `field` refers to passes on (a visit is in its
    /// customer's buckets; an order line in its order's). See ``TableSchema/inheritable(_:)``.
    case parent(String, table: String)
    /// `prefix:<value of field>` for every live row of `table` whose `through` refers to this row:
    /// a customer is in the `user:` bucket of the technician of each of its work orders. Buckets
    /// reached this way are not passed on to children (the customer's visits and orders stay out
    /// of the technician's reach; its assets follow their own rule).
    case referrers(String, through: String, field: String, prefix: String)

    var fieldsRead: [String] {
        switch self {
        case .constant: []
        case .field(let field, _): [field]
        case .parent(let field, _): [field]
        case .referrers: []
        }
    }
}

/// A schema description that contradicts itself.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    /// What is inconsistent.
    public let description: String
    init(_ description: String) { self.description = description }
}
