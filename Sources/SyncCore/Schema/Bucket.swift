/// A bucket: a named set of rows that devices sync together, with its own feed and cursor.
///
/// A bucket is either constant (`catalog`: every row of a table is in it) or keyed by a record
/// (`territory:<uuid>`, `user:<uuid>`), as the schema's ``BucketRule``s place rows. Its
/// ``name`` is what the wire, the database and the device store carry; everything in between
/// holds a `Bucket`, never a bare string.
public struct Bucket: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The bucket's name: `catalog`, or `prefix:<uuid>`.
    public let name: String

    /// A bucket by its name, as it came from the wire or the database.
    public init(_ name: String) { self.name = name }

    /// A bucket named in code (`"catalog"`, or in a test `"territory:\(id)"`).
    public init(stringLiteral name: String) { self.name = name }

    /// A bucket named by an interpolated string (`"territory:\(id)"`), as tests spell them.
    public init(stringInterpolation: DefaultStringInterpolation) { name = String(stringInterpolation: stringInterpolation) }

    /// The bucket `prefix:<key>` (`territory:<uuid>`).
    public init(_ prefix: String, _ key: RecordID) { name = "\(prefix):\(key.uuidString)" }

    /// The part before the colon (`territory`), or the whole name of a constant bucket.
    public var prefix: Substring { name.firstIndex(of: ":").map { name[..<$0] } ?? name[...] }

    /// The record a keyed bucket is named for (`nil` for a constant bucket).
    public var key: RecordID? { name.firstIndex(of: ":").flatMap { RecordID(String(name[name.index(after: $0)...])) } }

    /// Whether this is a user's own bucket (`user:<uuid>`), whose rows are the ones assigned to
    /// that user. A row taken from a user stays visible to that user's late writes for a grace
    /// period; see the engine's admission.
    public var isPersonal: Bool { prefix == Self.personalPrefix }

    /// The prefix of a user's own bucket.
    public static let personalPrefix = "user"

    /// A user's own bucket.
    public static func personal(_ user: RecordID) -> Bucket { Bucket(personalPrefix, user) }

    public var description: String { name }

    public static func < (lhs: Bucket, rhs: Bucket) -> Bool { lhs.name < rhs.name }
}
