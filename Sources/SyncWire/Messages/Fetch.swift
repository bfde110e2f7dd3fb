/// `POST /v1/fetch`: the current state of records the phone does not keep (an old visit or order
/// the rep opens), with the rows that follow them (its check-ins, its lines).
public struct FetchRequest: WireCodable, Hashable {
    /// The records wanted, at most ``WireLimits/fetchRefsMax``.
    public var refs: [RecordRef]

    /// Creates a request.
    public init(refs: [RecordRef]) { self.refs = refs }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.objects("refs", refs)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        refs = try decoder.objects("refs", as: RecordRef.self, max: WireLimits.fetchRefsMax)
    }
}

/// The answer to a ``FetchRequest``.
public struct FetchResponse: WireCodable, Hashable {
    /// The records found that the caller may see, and the rows that follow them, whole.
    public var snapshots: [RecordSnapshot]
    /// The records asked for and not served: unknown, or outside what the caller may see (the
    /// answer does not say which).
    public var missing: [RecordRef]

    /// Creates a response.
    public init(snapshots: [RecordSnapshot], missing: [RecordRef]) {
        self.snapshots = snapshots
        self.missing = missing
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.objects("snapshots", snapshots)
        encoder.objects("missing", missing)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        snapshots = try decoder.objects("snapshots", as: RecordSnapshot.self, max: WireLimits.recordsPerPageMax)
        missing = try decoder.objects("missing", as: RecordRef.self, max: WireLimits.fetchRefsMax)
    }
}
