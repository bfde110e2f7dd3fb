public import SyncCore

/// `POST /v1/register`: a device install introduces itself and gets its replica number.
public struct RegisterRequest: WireCodable, Hashable {
    /// The install's own id, made once on first start; registering again with it is idempotent.
    public var installation: RecordID
    /// The app's version (`1.4.2`); a version older than the server supports is refused with `stale_app_version`.
    public var appVersion: String
    /// The platform (`ios`, `android`, `fieldsim`).
    public var platform: String
    /// The schema revision the app was built with.
    public var schemaRevision: UInt64
    /// The replica number the install held before the server's generation changed (its database
    /// was restored): the server gives it back when no other device holds it, so that the changes
    /// the device uploads again keep their versions (`guarantees.md`, "Restores").
    public var previousReplica: ReplicaID?

    /// Creates a request.
    public init(installation: RecordID, appVersion: String, platform: String, schemaRevision: UInt64, previousReplica: ReplicaID? = nil) {
        self.installation = installation
        self.appVersion = appVersion
        self.platform = platform
        self.schemaRevision = schemaRevision
        self.previousReplica = previousReplica
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.id("installation", installation)
        encoder.string("app_version", appVersion)
        encoder.string("platform", platform)
        encoder.unsigned("schema_revision", schemaRevision)
        encoder.optionalUnsigned("previous_replica", previousReplica.map { UInt64($0.rawValue) })
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        installation = try decoder.id("installation")
        appVersion = try decoder.name("app_version", maxBytes: WireLimits.tokenBytesMax)
        platform = try decoder.name("platform", maxBytes: WireLimits.tokenBytesMax)
        schemaRevision = try decoder.unsigned("schema_revision")
        guard let previous = try decoder.optionalUnsigned("previous_replica") else {
            previousReplica = nil
            return
        }
        guard previous <= UInt64(UInt32.max) else { throw WireError(.limitExceeded, "previous_replica is over 2^32 - 1") }
        previousReplica = ReplicaID(UInt32(previous))
    }
}

/// The answer to a ``RegisterRequest``.
public struct RegisterResponse: WireCodable, Hashable {
    /// The compact number this install stamps its writes with.
    public var replica: ReplicaID
    /// The server's clock, which the device receives (its clock moves past it).
    public var serverClock: HLC
    /// The buckets the user may sync now.
    public var buckets: [Bucket]
    /// The server's generation (``Generation``): the device keeps it, and when a later answer
    /// carries another one, its cursors are void and its acknowledged changes may be lost.
    public var generation: Generation

    /// Creates a response.
    public init(replica: ReplicaID, serverClock: HLC, buckets: [Bucket], generation: Generation) {
        self.replica = replica
        self.serverClock = serverClock
        self.buckets = buckets
        self.generation = generation
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.unsigned("replica", UInt64(replica.rawValue))
        encoder.clock("server_clock", serverClock)
        encoder.buckets("buckets", buckets)
        encoder.string("generation", generation.rawValue)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        replica = ReplicaID(try decoder.unsigned("replica", as: UInt32.self))
        serverClock = try decoder.clock("server_clock")
        buckets = try decoder.buckets("buckets")
        generation = try decoder.generation("generation")
    }
}
