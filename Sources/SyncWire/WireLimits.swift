import SyncCore

/// Every limit of protocol v1, by name. A message over a limit is refused with
/// ``WireError/Code/limitExceeded`` naming the limit (HTTP: 400, or 413 for the body size).
public enum WireLimits {
    /// The protocol version this build speaks.
    public static let protocolVersion: UInt8 = 1
    /// The largest body on the wire, compressed or not (HTTP 413 beyond it).
    public static let bodyBytesMax = 8 << 20
    /// The largest body in the JSON form (HTTP 413 beyond it): a JSON body is parsed into a tree
    /// many times its size, so its limit is what bounds the server's memory per request.
    public static let jsonBodyBytesMax = 2 << 20
    /// The largest body after inflation.
    public static let inflatedBytesMax = 32 << 20
    /// Change sets in one push.
    public static let changeSetsPerPushMax = 500
    /// Changes in one push, over all its change sets.
    public static let changesPerPushMax = 2_000
    /// Field writes in one change.
    public static let fieldsPerChangeMax = 64
    /// A text value, in UTF-8 bytes (the schema's longest text field is 4,000).
    public static let textBytesMax = 4_096
    /// A table or field name.
    public static let nameBytesMax = 64
    /// A bucket name (`territory:<uuid>`).
    public static let bucketBytesMax = 128
    /// Buckets in one request or response.
    public static let bucketsMax = 256
    /// A blob reference (a SHA-256 in hex); the schema checks each one exactly.
    public static let blobReferenceBytesMax = Schema.blobReferenceLength
    /// Replicas contributing to one counter.
    public static let counterContributionsMax = 4_096
    /// Change sets, snapshots or removes in one page.
    public static let recordsPerPageMax = 5_000
    /// Records one `fetch_request` may ask for.
    public static let fetchRefsMax = 100
    /// Pages in one pull response.
    public static let pagesMax = 256
    /// Rule findings on one outcome.
    public static let findingsMax = 16
    /// A human-readable message.
    public static let messageBytesMax = 1_024
    /// Short identifiers: app versions, platforms, error codes, rule names.
    public static let tokenBytesMax = 64
}
