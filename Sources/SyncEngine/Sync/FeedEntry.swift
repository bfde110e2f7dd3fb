import SyncCore
import SyncWire

/// One entry of a bucket's feed, as a pull serves it.
///
/// A transaction writes one `change_log` row per bucket it touched, `kind` 3: the bucket's
/// entries of that transaction, in order (``FeedEntries``). Rows written before schema revision
/// 28 hold one entry each, `kind` 0, 1 or 2 (the entry's own encoding); ``entries(kind:body:)``
/// reads both.
enum FeedEntry: WireCodable, Equatable {
    /// A change set, filtered to the bucket's rows.
    case changeSet(ChangeSet)
    /// A row that left the bucket.
    case remove(RecordRef)
    /// A row that entered the bucket, whole.
    case entered(RecordSnapshot)

    /// The variants' labels, in the order of their tags (the `kind` of a one-entry row).
    static let labels = ["change_set", "remove", "entered"]

    func encode(to encoder: inout some WireEncoder) {
        switch self {
        case .changeSet(let changeSet):
            encoder.tag("kind", 0, labels: Self.labels)
            encoder.object("entry", changeSet)
        case .remove(let ref):
            encoder.tag("kind", 1, labels: Self.labels)
            encoder.object("entry", ref)
        case .entered(let snapshot):
            encoder.tag("kind", 2, labels: Self.labels)
            encoder.object("entry", snapshot)
        }
    }

    init(from decoder: inout some WireDecoder) throws(WireError) {
        switch try decoder.tag("kind", labels: Self.labels) {
        case 0: self = .changeSet(try decoder.object("entry", as: ChangeSet.self))
        case 1: self = .remove(try decoder.object("entry", as: RecordRef.self))
        default: self = .entered(try decoder.object("entry", as: RecordSnapshot.self))
        }
    }

    /// The `kind` of a row holding a transaction's entries for one bucket.
    static let packedKind = 3

    /// The entries of a `change_log` row of `kind`.
    static func entries(kind: Int, body: [UInt8]) throws -> [FeedEntry] {
        switch kind {
        case 0: [.changeSet(try BinaryDecoder.decode(ChangeSet.self, from: body))]
        case 1: [.remove(try BinaryDecoder.decode(RecordRef.self, from: body))]
        case 2: [.entered(try BinaryDecoder.decode(RecordSnapshot.self, from: body))]
        case packedKind: try BinaryDecoder.decode(FeedEntries.self, from: body).entries
        default: throw WireError(.malformed, "a feed row of unknown kind \(kind)")
        }
    }
}

/// A transaction's entries for one bucket, in order: the body of a `change_log` row of
/// ``FeedEntry/packedKind``.
struct FeedEntries: WireCodable {
    /// The entries.
    var entries: [FeedEntry]

    /// As many entries as one row may hold: the server writes them, so this only bounds a
    /// damaged row.
    static let entriesMax = 1 << 24

    init(_ entries: [FeedEntry]) { self.entries = entries }

    func encode(to encoder: inout some WireEncoder) { encoder.objects("entries", entries) }

    init(from decoder: inout some WireDecoder) throws(WireError) {
        entries = try decoder.objects("entries", as: FeedEntry.self, max: Self.entriesMax)
    }
}
