public import SyncCore

/// A request the server did not carry out, with a stable code (`SyncProtocol/errors.md`) and
/// what the client should do.
public struct ErrorResponse: WireCodable, Hashable, Error {
    /// The stable codes of protocol v1.
    public enum Code {
        /// 400: the body is not a valid message.
        public static let malformed = "malformed"
        /// 400: the JSON form has a field this version does not define.
        public static let unknownField = "unknown_field"
        /// 400: a count or length is over its limit.
        public static let limitExceeded = "limit_exceeded"
        /// 413: the body is larger than ``WireLimits/bodyBytesMax``, or inflates past ``WireLimits/inflatedBytesMax``.
        public static let bodyTooLarge = "body_too_large"
        /// 400: the frame's protocol version is not spoken here.
        public static let unsupportedVersion = "unsupported_version"
        /// 401: no token, or a token that does not verify.
        public static let unauthorized = "unauthorized"
        /// 401: the token expired; get a new one, then retry.
        public static let tokenExpired = "token_expired"
        /// 403: the user may not do this.
        public static let forbidden = "forbidden"
        /// 403: an admin deactivated the user: the app stops syncing (signing in again will not help).
        public static let userDeactivated = "user_deactivated"
        /// 403: an admin revoked the device: the app stops syncing.
        public static let deviceRevoked = "device_revoked"
        /// 403: an admin wiped the device: the app uploads what it still holds, then deletes its replica.
        public static let deviceWiped = "device_wiped"
        /// 409: the server holds no device with the replica number the change sets were stamped
        /// with (its database was restored from before the device registered): register again,
        /// naming the replica in `previous_replica`, then push again.
        public static let replicaUnknown = "replica_unknown"
        /// 409: the device's clock is too far ahead; rewind to `server_clock`, re-stamp unacknowledged changes, push again.
        public static let clockAhead = "clock_ahead"
        /// 426: the app is older than the server supports; update it (pending changes stay on the device).
        public static let staleAppVersion = "stale_app_version"
        /// 429: too many requests; retry after `retry_after_ms`.
        public static let rateLimited = "rate_limited"
        /// 503: the server cannot reach its database; retry later.
        public static let unavailable = "unavailable"
    }

    /// The stable code.
    public var code: String
    /// What went wrong and what to do, without customer data.
    public var message: String
    /// For `rate_limited` and `unavailable`: when to retry.
    public var retryAfterMilliseconds: UInt64?
    /// For `clock_ahead`: the server's clock to rewind to.
    public var serverClock: HLC?

    /// Creates an error response.
    public init(code: String, message: String, retryAfterMilliseconds: UInt64? = nil, serverClock: HLC? = nil) {
        self.code = code
        self.message = message
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.serverClock = serverClock
    }

    public func encode(to encoder: inout some WireEncoder) {
        encoder.string("code", code)
        encoder.string("message", message)
        encoder.optionalUnsigned("retry_after_ms", retryAfterMilliseconds)
        encoder.optionalClock("server_clock", serverClock)
    }

    public init(from decoder: inout some WireDecoder) throws(WireError) {
        code = try decoder.name("code", maxBytes: WireLimits.tokenBytesMax)
        message = try decoder.string("message", maxBytes: WireLimits.messageBytesMax)
        retryAfterMilliseconds = try decoder.optionalUnsigned("retry_after_ms")
        serverClock = try decoder.optionalClock("server_clock")
    }
}
