import FieldModel
import Foundation
import Hummingbird
import Logging
import NIOCore
import SyncEngine
import SyncCore
import SyncWire

/// `POST /v1/register`, `/v1/push`, `/v1/pull`, `/v1/live` and `/v1/fetch`: the sync protocol over HTTP.
///
/// A body is a binary frame (`application/vnd.fieldsync.frame`) or the JSON form
/// (`application/json`); the answer comes in the same form. Every failure is an ``ErrorResponse``
/// with the status `SyncProtocol/errors.md` gives it.
final class SyncRoutes: Sendable {
    let store: SyncStore
    let auth: Authenticator
    let wallClock: any WallClock
    /// How far ahead of the server's clock a pushed change may be.
    static let clockDriftMax: Duration = .seconds(300)

    let limiter: RateLimiter
    let metrics: SyncMetrics
    let live: LiveFeed
    /// How long `POST /v1/live` holds a request with nothing to report.
    let liveWait: Duration

    init(store: SyncStore, auth: Authenticator, wallClock: any WallClock, limiter: RateLimiter, metrics: SyncMetrics,
         live: LiveFeed, liveWait: Duration = .seconds(25)) {
        self.store = store
        self.auth = auth
        self.wallClock = wallClock
        self.limiter = limiter
        self.metrics = metrics
        self.live = live
        self.liveWait = liveWait
    }

    /// The protocol's routes.
    static let routes = ["/v1/fetch", "/v1/live", "/v1/pull", "/v1/push", "/v1/register"]

    /// Answers one decoded request on `route` (one of ``routes``): a message in, a message out.
    func answer(_ route: String, _ message: Message, claims: TokenAuthority.Claims) async throws -> Message {
        switch (route, message) {
        case ("/v1/register", .registerRequest(let body)):
            try Self.checkVersions(body)
            try Self.checkMinimum(try await store.minimumAppVersion(platform: body.platform, tenant: claims.tenant), platform: body.platform, appVersion: body.appVersion)
            let known = try await store.device(installation: body.installation, tenant: claims.tenant)
            if let device = known, device.user == claims.user, device.revoked {
                throw Self.revoked(device)
            }
            // A new installation needs a token issued after the user's last revoked phone: the
            // token may be that phone's. (Identity providers give issue times in whole seconds: a
            // token of the same second as the revocation passes. Compared as doubles: a signed
            // `iat` far in the past must not trap a conversion.)
            if known == nil, let revoked = try await store.lastRevocation(of: claims.user, tenant: claims.tenant), Double(revoked) / 1_000 - claims.issued.timeIntervalSince1970 >= 1 {
                throw HTTPFailure(.forbidden, ErrorResponse(code: ErrorResponse.Code.deviceRevoked,
                                                            message: "a phone of this user was revoked after this token was issued: sign in again to register a new one"))
            }
            guard let replica = try await store.register(installation: body.installation, user: claims.user, tenant: claims.tenant,
                                                         platform: body.platform, appVersion: body.appVersion, previousReplica: body.previousReplica) else {
                throw HTTPFailure(.forbidden, ErrorResponse(code: ErrorResponse.Code.forbidden,
                                                            message: "this installation is registered to another user: sign in with a new installation id"))
            }
            let buckets = try await store.buckets(user: claims.user, role: claims.role, tenant: claims.tenant, at: Int64(wallClock.now()))
            return .registerResponse(RegisterResponse(replica: replica, serverClock: now(), buckets: buckets, generation: try await store.generation()))
        case ("/v1/push", .pushRequest(let body)):
            return .pushResponse(try await push(body, claims: claims))
        case ("/v1/pull", .pullRequest(let body)):
            let response = try await pull(body, claims: claims)
            // A pull costs by the rows it served: a snapshot page is dearer than a ping.
            let rows = response.pages.reduce(0) { $0 + $1.changeSets.count + $1.snapshots.count + $1.removes.count }
            limiter.charge(Double(rows) / RateLimiter.Cost.rowsPerToken, for: claims.user)
            return .pullResponse(response)
        case ("/v1/live", .pullRequest(let body)):
            return .liveNotice(try await live(body, claims: claims))
        case ("/v1/fetch", .fetchRequest(let body)):
            let response = try await fetch(body, claims: claims)
            // A fetch costs by the rows it served or by the records it asked for, whichever is more:
            // each asked record is a few reads even when nothing comes back.
            limiter.charge(max(Double(response.snapshots.count) / RateLimiter.Cost.rowsPerToken,
                               Double(body.refs.count) / RateLimiter.Cost.fetchedRecordsPerToken), for: claims.user)
            return .fetchResponse(response)
        case ("/v1/register", _):
            throw Self.wrongMessage("register_request")
        case ("/v1/push", _):
            throw Self.wrongMessage("push_request")
        case ("/v1/fetch", _):
            throw Self.wrongMessage("fetch_request")
        default:
            throw Self.wrongMessage("pull_request")
        }
    }

    func register(on router: Router<BasicRequestContext>) {
        for route in Self.routes {
            router.post(RouterPath(stringLiteral: route)) { request, context in
                let json = request.headers[.contentType]?.hasPrefix("application/json") == true
                let (status, message) = await self.respond(route, authorization: request.headers[.authorization], json: json, logger: context.logger) {
                    do {
                        return Array(try await request.body.collect(upTo: WireLimits.bodyBytesMax).readableBytesView)
                    } catch {
                        throw HTTPFailure(.contentTooLarge, ErrorResponse(code: ErrorResponse.Code.bodyTooLarge, message: "the body is over \(WireLimits.bodyBytesMax) bytes"))
                    }
                }
                return try Self.response(message, status: status, json: json)
            }
        }
    }

    /// The oldest app version this server serves: older ones are told to update
    /// (`stale_app_version`, 426), their outbox kept on the device.
    static let appVersionMin = [1, 0, 0]

    /// Refuses an app this server cannot serve: an app version that is not dotted numbers
    /// (`malformed`), one older than ``appVersionMin`` or built for an older schema revision
    /// (`stale_app_version`), one built for a newer schema revision than this server's
    /// (`unsupported_version`: the server must be upgraded first).
    static func checkVersions(_ body: RegisterRequest) throws {
        guard let version = version(body.appVersion) else {
            throw HTTPFailure(.badRequest, ErrorResponse(code: ErrorResponse.Code.malformed, message: "app_version is dotted numbers, such as 1.4.2"))
        }
        let revision = UInt64(FieldSalesSchema.revision)
        if version.lexicographicallyPrecedes(appVersionMin + [0]) || body.schemaRevision < revision {
            throw HTTPFailure(.upgradeRequired, ErrorResponse(
                code: ErrorResponse.Code.staleAppVersion,
                message: "this server needs app \(appVersionMin.map(String.init).joined(separator: ".")) or later, built for schema revision \(revision): update the app; its outbox is kept"))
        }
        if body.schemaRevision > revision {
            throw HTTPFailure(.badRequest, ErrorResponse(code: ErrorResponse.Code.unsupportedVersion,
                                                         message: "the app is built for schema revision \(body.schemaRevision); this server speaks \(revision): upgrade the server first"))
        }
    }

    /// Refuses a request from a replica no device of the tenant holds (`replica_unknown`: a
    /// restore lost its registration), from a device that is not the user's (`forbidden`), one an admin revoked
    /// (`device_revoked`; with a wipe `device_wiped`, except a push: a wiped device uploads what it
    /// still holds first), or one running an app older than its platform's minimum
    /// (`stale_app_version`).
    func checkDevice(_ replica: ReplicaID, claims: TokenAuthority.Claims, pushing: Bool) async throws {
        guard let device = try await store.device(replica: replica, tenant: claims.tenant) else {
            // No device of the tenant holds it: the database was restored from before the device
            // registered. The device registers again and takes its number back.
            throw HTTPFailure(.conflict, ErrorResponse(code: ErrorResponse.Code.replicaUnknown,
                                                       message: "this server holds no device \(replica.rawValue): register again with previous_replica, then push again"))
        }
        guard device.user == claims.user else {
            throw HTTPFailure(.forbidden, ErrorResponse(code: ErrorResponse.Code.forbidden, message: "the replica is not this user's device"))
        }
        if device.revoked, !(device.wipe && pushing) { throw Self.revoked(device) }
        try Self.checkMinimum(device.minimumAppVersion, platform: device.platform, appVersion: device.appVersion)
    }

    /// The refusal of a revoked device: stop, or (wiped) delete the replica once its outbox is empty.
    static func revoked(_ device: SyncStore.DeviceStanding) -> HTTPFailure {
        device.wipe
            ? HTTPFailure(.forbidden, ErrorResponse(code: ErrorResponse.Code.deviceWiped,
                                                    message: "an admin wiped this device: upload what it still holds, then delete its replica"))
            : HTTPFailure(.forbidden, ErrorResponse(code: ErrorResponse.Code.deviceRevoked, message: "an admin revoked this device: it stops syncing"))
    }

    /// Refuses an app older than `minimum`, the oldest version the operator serves the tenant on its platform.
    static func checkMinimum(_ minimum: String?, platform: String, appVersion: String) throws {
        guard let minimum, let given = version(appVersion), let least = version(minimum), given.lexicographicallyPrecedes(least) else { return }
        throw HTTPFailure(.upgradeRequired, ErrorResponse(code: ErrorResponse.Code.staleAppVersion,
                                                          message: "this server needs app \(minimum) or later on \(platform): update the app; its outbox is kept"))
    }

    /// A dotted version as four numbers (`1.4` is `1.4.0.0`), or `nil` when it is not one.
    static func version(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard (1...4).contains(parts.count), parts.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        return parts.compactMap { $0 } + Array(repeating: 0, count: 4 - parts.count)
    }

    /// The live channel: answers as soon as one of the cursors' buckets has something to pull (or
    /// the user's bucket set changed), at the latest after ``liveWait`` with no buckets. Between
    /// notifications it looks again every second, so a notification lost in a reconnect, or an
    /// entry held back by the visibility watermark, delays the answer by a second at most.
    func live(_ request: PullRequest, claims: TokenAuthority.Claims) async throws -> LiveNotice {
        let deadline = ContinuousClock.now + liveWait
        while true {
            let allowed = try await store.buckets(user: claims.user, role: claims.role, tenant: claims.tenant, at: Int64(wallClock.now()))
            let cursors = request.cursors.filter { allowed.contains($0.bucket) }
            var ready = try await store.bucketsWithNews(cursors, tenant: claims.tenant)
            // A bucket the user gained or lost is news too: the device learns it from a pull.
            ready.formUnion(Set(allowed).symmetricDifference(request.cursors.map(\.bucket)))
            let left = deadline - ContinuousClock.now
            if !ready.isEmpty || left <= .zero || Task.isCancelled {
                return LiveNotice(buckets: ready.sorted(), serverClock: now())
            }
            await live.wait(tenant: claims.tenant.uuidString, buckets: cursors.map(\.bucket), timeout: min(left, .seconds(1)))
        }
    }

    func push(_ request: PushRequest, claims: TokenAuthority.Claims) async throws -> PushResponse {
        let wall = wallClock.now()
        var checked = Set<ReplicaID>()
        for change in request.changeSets.flatMap(\.changes) {
            if HybridClock.isAhead(change.version.clock, of: wall, by: Self.clockDriftMax) {
                throw HTTPFailure(.conflict, ErrorResponse(
                    code: ErrorResponse.Code.clockAhead,
                    message: "the device's clock is ahead of the server's: rewind to server_clock, re-stamp unacknowledged changes and push again",
                    serverClock: now()))
            }
            if checked.insert(change.version.replica).inserted {
                try await checkDevice(change.version.replica, claims: claims, pushing: true)
            }
        }
        var outcomes: [ChangeOutcome] = []
        var conflicts = 0
        defer { metrics.pushed(outcomes: outcomes.map(\.result.name), conflicts: conflicts) }
        let submissions = request.changeSets.map { SyncStore.Submission($0, replica: $0.changes.first?.version.replica ?? .server) }
        for applied in try await store.push(submissions, batch: request.batch, author: SyncStore.Author(role: claims.role, user: claims.user, now: wall),
                                            tenant: claims.tenant) {
            outcomes += applied.outcomes
            conflicts += applied.conflicts.count
        }
        return PushResponse(batch: request.batch, serverClock: now(), outcomes: outcomes)
    }

    func pull(_ request: PullRequest, claims: TokenAuthority.Claims) async throws -> PullResponse {
        metrics.pulled()
        let allowed = try await store.buckets(user: claims.user, role: claims.role, tenant: claims.tenant, at: Int64(wallClock.now()))
        // `records_max` bounds the whole response (0: the server's maximum); a page is served
        // whole, so one transaction larger than what is left may pass it.
        var budget = request.recordsMax == 0 ? WireLimits.recordsPerPageMax : Int(min(request.recordsMax, UInt64(WireLimits.recordsPerPageMax)))
        let held = request.cursors.filter { allowed.contains($0.bucket) }
        if let replica = request.replica { try await checkDevice(replica, claims: claims, pushing: false) }
        // A cursor behind the compacted feed gets no page: the device uploads, then re-primes.
        let reprime = try await store.behindHorizon(held, tenant: claims.tenant)
        var pages: [BucketPage] = []
        for cursor in held where !reprime.contains(cursor.bucket) {
            guard budget > 0 else {
                // Buckets left for the next pull: the last page says there is more.
                if !pages.isEmpty { pages[pages.count - 1].hasMore = true }
                break
            }
            let page = cursor.sequence == 0 || cursor.resume != nil
                ? try await store.snapshot(bucket: cursor.bucket, cursor: cursor, limit: budget, tenant: claims.tenant)
                : try await store.changes(bucket: cursor.bucket, after: cursor.sequence, limit: budget, tenant: claims.tenant)
            budget -= page.changeSets.count + page.snapshots.count + page.removes.count
            // A page that moves the cursor is served even when its entries cancel out (a row away
            // and back): otherwise the cursor stays, the feed keeps having news, and live spins.
            if page.kind == .snapshot || page.cursor != cursor.sequence { pages.append(page) }
        }
        if let replica = request.replica {
            // A device priming a bucket will read its feed from the snapshot's watermark on.
            let priming = pages.filter { $0.kind == .snapshot }.map { BucketCursor(bucket: $0.bucket, sequence: $0.cursor) }
            try await store.acknowledge(held + priming, replica: replica, tenant: claims.tenant)
        }
        return PullResponse(serverClock: now(), pages: pages, bucketsChanged: Set(request.cursors.map(\.bucket)) != Set(allowed), reprime: reprime.sorted(),
                            generation: try await store.generation())
    }

    /// Records the phone does not keep, with the rows that follow them: only those in a bucket the
    /// user may sync now; any other (unknown or not the user's) comes back as missing.
    func fetch(_ request: FetchRequest, claims: TokenAuthority.Claims) async throws -> FetchResponse {
        let allowed = try await store.buckets(user: claims.user, role: claims.role, tenant: claims.tenant, at: Int64(wallClock.now()))
        let found = try await store.fetch(request.refs, tenant: claims.tenant, visible: Set(allowed))
        return FetchResponse(snapshots: found.snapshots, missing: found.missing)
    }

    func now() -> HLC { store.clock.now() }

    // MARK: - Plumbing

    struct HTTPFailure: Error {
        var status: HTTPResponse.Status
        var error: ErrorResponse
        init(_ status: HTTPResponse.Status, _ error: ErrorResponse) {
            self.status = status
            self.error = error
        }
    }

    static func wrongMessage(_ expected: String) -> HTTPFailure {
        HTTPFailure(.badRequest, ErrorResponse(code: ErrorResponse.Code.malformed, message: "this route takes a \(expected)"))
    }

    /// Answers one request of the protocol, whatever carried it (HTTP here, a simulation's
    /// in-process transport in ``SyncService``): authenticate, rate-limit, read and decode the
    /// body, answer. Every failure is an ``ErrorResponse`` with its status.
    func respond(_ route: String, authorization: String?, json: Bool, logger: Logger,
                 body: () async throws -> [UInt8]) async -> (HTTPResponse.Status, Message) {
        let started = ContinuousClock.now
        defer { metrics.observe(String(route.dropFirst(4)), ContinuousClock.now - started) }
        do {
            guard Self.routes.contains(route) else {
                throw HTTPFailure(.notFound, ErrorResponse(code: ErrorResponse.Code.malformed, message: "no route \(route)"))
            }
            let claims: TokenAuthority.Claims
            do {
                claims = try await auth.claims(authorization)
            } catch let error as TokenError {
                throw HTTPFailure(HTTPResponse.Status(code: error.httpStatus), ErrorResponse(code: error.answerCode, message: error.message))
            }
            if let wait = limiter.take(for: claims.user) {
                throw HTTPFailure(.tooManyRequests, ErrorResponse(code: ErrorResponse.Code.rateLimited, message: "too many requests: retry later",
                                                                  retryAfterMilliseconds: wait))
            }
            let bytes = try await body()
            // The JSON form parses into a tree many times its size: it gets a smaller limit than frames.
            if json, bytes.count > WireLimits.jsonBodyBytesMax {
                throw HTTPFailure(.contentTooLarge, ErrorResponse(code: ErrorResponse.Code.bodyTooLarge,
                                                                  message: "a JSON body has at most \(WireLimits.jsonBodyBytesMax) bytes; send a binary frame or fewer changes"))
            }
            let message: Message
            do {
                message = json ? try Frame.decode(json: bytes) : try Frame.decode(bytes)
            } catch {
                throw Self.failure(for: error)
            }
            return (.ok, try await answer(route, message, claims: claims))
        } catch let failure as HTTPFailure {
            metrics.error(failure.error.code)
            return (failure.status, .error(failure.error))
        } catch {
            logger.error("a sync request failed", metadata: ["error": "\(error)"])
            return (.serviceUnavailable, .error(ErrorResponse(code: ErrorResponse.Code.unavailable, message: "the server could not complete the request; retry later",
                                                              retryAfterMilliseconds: 1_000)))
        }
    }

    static func failure(for error: WireError) -> HTTPFailure {
        switch error.code {
        case .inflatedTooLarge, .compressedTooLarge:
            return HTTPFailure(.contentTooLarge, ErrorResponse(code: ErrorResponse.Code.bodyTooLarge, message: error.message))
        case .unknownField:
            return HTTPFailure(.badRequest, ErrorResponse(code: ErrorResponse.Code.unknownField, message: error.message))
        case .limitExceeded:
            return HTTPFailure(.badRequest, ErrorResponse(code: ErrorResponse.Code.limitExceeded, message: error.message))
        case .unsupportedVersion:
            return HTTPFailure(.badRequest, ErrorResponse(code: ErrorResponse.Code.unsupportedVersion, message: error.message))
        default:
            return HTTPFailure(.badRequest, ErrorResponse(code: ErrorResponse.Code.malformed, message: error.message))
        }
    }

    /// A message as a body: its JSON form, or a compressed binary frame.
    static func body(_ message: Message, json: Bool) throws -> [UInt8] {
        json ? Array(Frame.json(message).printed.utf8) : try Frame.encode(message, compress: true)
    }

    static func response(_ message: Message, status: HTTPResponse.Status, json: Bool) throws -> Response {
        let bytes = try body(message, json: json)
        return Response(status: status, headers: [.contentType: json ? "application/json" : "application/vnd.fieldsync.frame"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
