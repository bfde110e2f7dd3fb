public import SyncCore

/// How far a device has read one bucket: the sequence of the last change it applied (0 for a
/// bucket it has never seen, which is primed from a snapshot), and, while a snapshot arrives in
/// several pages, the last row it received.
public struct BucketCursor: WireCodable, Hashable {
    /// The bucket (`territory:<uuid>`, `user:<uuid>`, `catalog`).
    public var bucket: Bucket
    /// The last applied sequence.
    public var sequence: UInt64
    /// While a snapshot is incomplete: the last row received, after which it continues.
    public var resume: RecordRef?

    /// Creates a cursor.
    public init(bucket: Bucket, sequence: UInt64, resume: RecordRef? = nil) {
        self.bucket = bucket
        self.sequence = sequence
        self.resume = resume
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.bucket("bucket", bucket)
        encoder.unsigned("sequence", sequence)
        encoder.optionalObject("resume", resume)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        bucket = try decoder.bucket("bucket")
        sequence = try decoder.unsigned("sequence")
        resume = try decoder.optionalObject("resume", as: RecordRef.self)
    }
}

/// `POST /v1/pull`: what is new in these buckets since these cursors.
public struct PullRequest: WireCodable, Hashable {
    /// One cursor per bucket the device holds or wants.
    public var cursors: [BucketCursor]
    /// The most change sets and snapshot rows the device wants in this response.
    public var recordsMax: UInt64
    /// The device's replica number. With it, the cursors count as the device's acknowledgement of
    /// everything before them, which lets the server compact its feed (see `guarantees.md`).
    public var replica: ReplicaID?

    /// Creates a request.
    public init(cursors: [BucketCursor], recordsMax: UInt64 = UInt64(WireLimits.recordsPerPageMax), replica: ReplicaID? = nil) {
        self.cursors = cursors
        self.recordsMax = recordsMax
        self.replica = replica
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.objects("cursors", cursors)
        encoder.unsigned("records_max", recordsMax)
        encoder.optionalUnsigned("replica", replica.map { UInt64($0.rawValue) })
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        cursors = try decoder.objects("cursors", as: BucketCursor.self, max: WireLimits.bucketsMax)
        recordsMax = try decoder.unsigned("records_max")
        guard let replica = try decoder.optionalUnsigned("replica") else {
            self.replica = nil
            return
        }
        guard replica <= UInt64(UInt32.max) else { throw WireError(.limitExceeded, "replica is over 2^32 - 1") }
        self.replica = ReplicaID(UInt32(replica))
    }
}

/// A record by table and id.
public struct RecordRef: WireCodable, Hashable {
    /// The table.
    public var table: String
    /// The record.
    public var record: RecordID

    /// Creates a reference.
    public init(table: String, record: RecordID) {
        self.table = table
        self.record = record
    }

    /// Hashes the record's id alone: ids are unique across tables, and references are hashed on
    /// every step of a push (the working set is keyed by them), where hashing the table's name
    /// too cost more than the rest of the key. Equality still compares both.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(record)
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.string("table", table)
        encoder.id("record", record)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        table = try decoder.name("table", maxBytes: WireLimits.nameBytesMax)
        record = try decoder.id("record")
    }
}

/// A record's full state, for snapshots and for rows entering a bucket.
public struct RecordSnapshot: WireCodable, Hashable {
    /// Which record.
    public var ref: RecordRef
    /// Its state, every field with its version.
    public var state: RecordState

    /// Creates a snapshot row.
    public init(ref: RecordRef, state: RecordState) {
        self.ref = ref
        self.state = state
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.object("ref", ref)
        encoder.object("state", state)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        ref = try decoder.object("ref", as: RecordRef.self)
        state = try decoder.object("state", as: RecordState.self)
    }
}

/// One bucket's part of a pull response, applied by the device in one transaction with its cursor.
public struct BucketPage: WireCodable, Hashable {
    /// Incremental changes, or a snapshot of the bucket.
    public enum Kind: UInt8, Hashable, Sendable {
        /// Change sets after the cursor, whole.
        case changes
        /// The bucket's rows as of a consistent point (for a new bucket, or after re-priming).
        case snapshot

        static let labels = ["changes", "snapshot"]
    }

    /// The bucket.
    public var bucket: Bucket
    /// Changes or snapshot.
    public var kind: Kind
    /// For `changes`: the change sets, in sequence order.
    public var changeSets: [ChangeSet]
    /// For `snapshot`, and for rows that entered the bucket: their full state.
    public var snapshots: [RecordSnapshot]
    /// Rows that left the bucket (or were deleted past their tombstone window).
    public var removes: [RecordRef]
    /// The cursor to send next time.
    public var cursor: UInt64
    /// Whether more is waiting in this bucket.
    public var hasMore: Bool
    /// For a snapshot with more to come: the last row of this page, to send back in the cursor.
    public var resume: RecordRef?

    /// Creates a page.
    public init(bucket: Bucket, kind: Kind, changeSets: [ChangeSet] = [], snapshots: [RecordSnapshot] = [], removes: [RecordRef] = [], cursor: UInt64, hasMore: Bool, resume: RecordRef? = nil) {
        self.bucket = bucket
        self.kind = kind
        self.changeSets = changeSets
        self.snapshots = snapshots
        self.removes = removes
        self.cursor = cursor
        self.hasMore = hasMore
        self.resume = resume
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.bucket("bucket", bucket)
        encoder.tag("kind", kind.rawValue, labels: Kind.labels)
        encoder.objects("change_sets", changeSets)
        encoder.objects("snapshots", snapshots)
        encoder.objects("removes", removes)
        encoder.unsigned("cursor", cursor)
        encoder.bool("has_more", hasMore)
        encoder.optionalObject("resume", resume)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        bucket = try decoder.bucket("bucket")
        kind = Kind(rawValue: try decoder.tag("kind", labels: Kind.labels))!
        changeSets = try decoder.objects("change_sets", as: ChangeSet.self, max: WireLimits.recordsPerPageMax)
        snapshots = try decoder.objects("snapshots", as: RecordSnapshot.self, max: WireLimits.recordsPerPageMax)
        removes = try decoder.objects("removes", as: RecordRef.self, max: WireLimits.recordsPerPageMax)
        cursor = try decoder.unsigned("cursor")
        hasMore = try decoder.bool("has_more")
        resume = try decoder.optionalObject("resume", as: RecordRef.self)
    }
}

/// The answer to a ``PullRequest``.
public struct PullResponse: WireCodable, Hashable {
    /// The server's clock, which the device receives.
    public var serverClock: HLC
    /// One page per bucket that had something.
    public var pages: [BucketPage]
    /// The user's bucket set changed since the device last registered or pulled: it should
    /// fetch the new set (prime new buckets, evict lost ones after uploading its own edits).
    public var bucketsChanged: Bool
    /// Buckets the device was away from for longer than the tombstone window: it must upload its
    /// pending changes, then re-prime them from a snapshot.
    public var reprime: [Bucket]
    /// The server's generation. When it is not the one the device holds, the pages are not for
    /// its cursors: the device applies none of them, uploads again what it has not seen answered
    /// in this generation, and re-primes every bucket (`guarantees.md`, "Restores").
    public var generation: Generation

    /// Creates a response.
    public init(serverClock: HLC, pages: [BucketPage], bucketsChanged: Bool = false, reprime: [Bucket] = [], generation: Generation) {
        self.serverClock = serverClock
        self.pages = pages
        self.bucketsChanged = bucketsChanged
        self.reprime = reprime
        self.generation = generation
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.clock("server_clock", serverClock)
        encoder.objects("pages", pages)
        encoder.bool("buckets_changed", bucketsChanged)
        encoder.buckets("reprime", reprime)
        encoder.string("generation", generation.rawValue)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        serverClock = try decoder.clock("server_clock")
        pages = try decoder.objects("pages", as: BucketPage.self, max: WireLimits.pagesMax)
        bucketsChanged = try decoder.bool("buckets_changed")
        reprime = try decoder.buckets("reprime")
        generation = try decoder.generation("generation")
    }
}

/// Sent on the live channel when buckets the device holds changed: pull now.
public struct LiveNotice: WireCodable, Hashable {
    /// The buckets with something new.
    public var buckets: [Bucket]
    /// The server's clock.
    public var serverClock: HLC

    /// Creates a notice.
    public init(buckets: [Bucket], serverClock: HLC) {
        self.buckets = buckets
        self.serverClock = serverClock
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.buckets("buckets", buckets)
        encoder.clock("server_clock", serverClock)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        buckets = try decoder.buckets("buckets")
        serverClock = try decoder.clock("server_clock")
    }
}
