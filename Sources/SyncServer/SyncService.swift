public import Logging
public import SyncEngine
public import SyncCore
import FieldModel
import HTTPTypes

/// The sync protocol without a socket: the very code the HTTP routes run — authentication, rate
/// limits, decoding, push, pull, live — answering request bytes with response bytes. A
/// deterministic simulation drives it through an in-process transport (`SyncTesting`).
public struct SyncService: Sendable {
    let routes: SyncRoutes
    let blobs: BlobRoutes
    let logger: Logger

    /// The store it serves.
    public var store: SyncStore { routes.store }

    /// Creates a service over `store`.
    ///
    /// - Parameter liveWait: How long `/v1/live` holds a request with nothing to report.
    public init(store: SyncStore, tokens: TokenAuthority, wallClock: any WallClock, requestsPerSecond: Double = 1_000_000, liveWait: Duration = .seconds(1),
                logger: Logger = Logger(label: "fieldsync.service")) {
        let limiter = RateLimiter(limits: RateLimiter.Limits(requestsPerSecond: requestsPerSecond, burstMax: requestsPerSecond * 10), wallClock: wallClock)
        let auth = Authenticator(tokens: tokens, store: store, logger: logger)
        self.routes = SyncRoutes(store: store, auth: auth, wallClock: wallClock, limiter: limiter, metrics: SyncMetrics(),
                                 live: LiveFeed(pool: store.pool, logger: logger), liveWait: liveWait)
        self.blobs = BlobRoutes(store: store, auth: auth, limiter: limiter)
        self.logger = logger
    }

    /// Answers one request: `route` (`/v1/push`, …), the `Authorization` header, and the body (a
    /// binary frame, or the JSON form when `json`). Returns the HTTP status and the body of the answer.
    public func respond(route: String, authorization: String?, body: [UInt8], json: Bool = false) async -> (status: Int, body: [UInt8]) {
        let (status, message) = await routes.respond(route, authorization: authorization, json: json, logger: logger) { body }
        do {
            return (Int(status.code), try SyncRoutes.body(message, json: json))
        } catch {
            return (500, [])
        }
    }

    /// Answers one blob request: `method` (`HEAD`, `PUT` or `GET`) on `/v1/blobs/{sha256}`, the
    /// `Authorization` and `Content-Type` headers, and the body. Returns the HTTP status, the
    /// answer's `Content-Type` and `FieldSync-Error` headers, and its body (none for `HEAD`).
    public func respondBlob(method: String, sha256: String, authorization: String?, contentType: String? = nil,
                            body: [UInt8] = []) async -> (status: Int, contentType: String?, errorCode: String?, body: [UInt8]) {
        guard let method = BlobRoutes.Method(rawValue: method) else { return (405, nil, nil, []) }
        let answer = await blobs.answer(method, sha256: sha256, authorization: authorization, contentType: contentType, body: body)
        return (Int(answer.status.code), answer.headers[.contentType], answer.headers[.fieldSyncError], method == .head ? [] : answer.body)
    }
}
