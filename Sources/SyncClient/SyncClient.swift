public import DeviceStore
import FieldModel
public import SyncCore
public import SyncWire

/// The device's sync loop: registers, pushes the outbox, pulls until nothing is left.
///
/// Every step is resumable: the outbox and the cursors live in the ``DeviceStore``, so a sync cut
/// anywhere (no network, a crash, a lost response) starts again where it stopped, and a push
/// replayed after a lost response is answered from the server's record without applying twice.
///
/// Errors the server specifies are handled here: `clock_ahead` re-stamps the outbox and pushes
/// again; `rate_limited` and `unavailable` wait (as told, or with jittered exponential back-off);
/// a bucket to re-prime is re-primed after the outbox is uploaded; a changed bucket set is
/// fetched again. What the app must act on ends the sync with a ``SyncClientError``: an expired
/// or refused token (``SyncClientError/Code/tokenExpired``, ``SyncClientError/Code/unauthorized``),
/// an app too old (``SyncClientError/Code/upgradeRequired``), or no server after the retries
/// (``SyncClientError/Code/offline``). Rejected changes are not errors: they are in the store's
/// quarantine (``DeviceStore/outcomes(result:)``).
public actor SyncClient {
    /// Who is signed in on the device.
    public struct Credentials: Sendable {
        /// The bearer token.
        public var token: String
        /// The user the token is for.
        public var user: RecordID
        /// The user's role.
        public var role: Role

        /// Creates credentials.
        public init(token: String, user: RecordID, role: Role) {
            self.token = token
            self.user = user
            self.role = role
        }
    }

    /// Tuning.
    public struct Options: Sendable {
        /// The app's version, sent at registration.
        public var appVersion: String = "1.0.0"
        /// The platform, sent at registration.
        public var platform: String = "fieldsim"
        /// Attempts per request before the sync gives up as ``SyncClientError/Code/offline``.
        public var attempts: Int = 6
        /// The first back-off; each retry doubles it, up to ``backoffMax``, with full jitter.
        public var backoff: Duration = .milliseconds(200)
        /// The longest back-off.
        public var backoffMax: Duration = .seconds(10)
        /// Change sets per push.
        public var changeSetsPerPush: Int = 100
        /// Seeds the jitter (deterministic simulations).
        public var seed: UInt64 = 0x5EED
        /// How long a record fetched on demand (``fetch(_:)``) stays on the phone after it was
        /// fetched, in milliseconds; each ``sync()`` releases the older ones.
        public var fetchedKeepMilliseconds: Int64 = 86_400_000
        /// How the client waits (a simulated clock replaces it in simulations).
        public var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

        /// Default options.
        public init() {}
    }

    /// What one ``sync()`` did.
    public struct Report: Sendable, Hashable {
        /// Changes pushed, and of them rejected into quarantine.
        public var pushed = 0
        /// See ``pushed``.
        public var rejected = 0
        /// Changes marked applied with an exception.
        public var flagged = 0
        /// Change sets and snapshot rows pulled.
        public var pulledChangeSets = 0
        /// See ``pulledChangeSets``.
        public var pulledRows = 0
        /// Rows removed from buckets.
        public var removed = 0
        /// Requests made, and retries among them.
        public var requests = 0
        /// See ``requests``.
        public var retries = 0
        /// Bytes on the wire, both ways.
        public var bytes = 0
        /// Times the outbox was re-stamped after `clock_ahead`.
        public var restamps = 0
        /// Buckets re-primed.
        public var reprimed: [Bucket] = []
        /// Photos and signatures uploaded, and their bytes.
        public var uploaded = 0
        /// See ``uploaded``.
        public var uploadedBytes = 0
        /// Uploads the server answered as already held: no bytes sent.
        public var alreadyUploaded = 0
        /// Uploads refused for good, or put off (quota, a server error) to a later sync.
        public var uploadsRefused = 0
        /// See ``uploadsRefused``.
        public var uploadsPutOff = 0
        /// Times the server answered in another generation (its database was restored), and the
        /// answered change sets that went back in the outbox then, to be uploaded again.
        public var generationsMet = 0
        /// See ``generationsMet``.
        public var requeued = 0

        /// An empty report.
        public init() {}
    }

    /// The store the client syncs.
    public let store: DeviceStore
    private let transport: any SyncTransport
    private var credentials: Credentials
    private let options: Options
    private var random: SplitMix64

    /// Creates a client for `store`, talking through `transport`.
    public init(store: DeviceStore, transport: any SyncTransport, credentials: Credentials, options: Options = Options()) {
        self.store = store
        self.transport = transport
        self.credentials = credentials
        self.options = options
        self.random = SplitMix64(seed: options.seed)
    }

    /// Replaces the token (after ``SyncClientError/Code/tokenExpired``, the app signs in again).
    public func setToken(_ token: String) {
        credentials.token = token
    }

    /// Registers if needed, pushes the whole outbox, pulls every bucket until nothing is left,
    /// then uploads the photos and signatures whose records the server now holds.
    ///
    /// Each step is reported to the store (``DeviceStore/reportSync(_:)``), so the app's sync status
    /// (``DeviceStore/SyncStatus``) follows it, and a failure is kept with its reason.
    @discardableResult
    public func sync() async throws -> Report {
        var report = Report()
        do {
            if try await store.identity().replica == nil { try await register(&report) }
            try await step(.pushing)
            try await pushAll(&report)
            try await store.reportSync(.pushed)
            try await step(.pulling)
            try await pullAll(&report)
            try await store.reportSync(.pulled)
            try await step(.uploading)
            try await uploadAttachments(&report)
            try await store.releaseFetched(olderThan: options.fetchedKeepMilliseconds)
            activity = .idle
            try await store.reportSync(.finished)
        } catch let error as SyncClientError where error.code == .deviceWiped {
            // A wiped device: the outbox went up in the push (the server takes it); the photos and
            // signatures follow; then the replica goes.
            activity = .idle
            try? await uploadAttachments(&report)
            if try await store.outboxCount() == 0 { try await store.erase() }
            throw error
        } catch {
            // A cancelled sync (the app killed) cannot write any more; its status says where it stopped.
            activity = .idle
            let offline = (error as? SyncClientError)?.code == .offline
            try? await store.reportSync(.failed(String(describing: error), reachable: !offline))
            throw error
        }
        return report
    }

    /// What the loop does now, as the store's status shows it.
    private var activity = DeviceStore.SyncActivity.idle

    private func step(_ next: DeviceStore.SyncActivity) async throws {
        activity = next
        try await store.reportSync(.started(next))
    }

    /// Pushes every change set in the outbox, in batches.
    public func pushAll(_ report: inout Report) async throws {
        var restamped = 0
        var reregistered = false
        while true {
            let pending = try await store.pendingChangeSets(limit: options.changeSetsPerPush)
            guard !pending.isEmpty else { return }
            // The batch id is the first change set's: a retry of the same outbox is the same batch.
            let request = PushRequest(batch: pending[0].id.uuid, changeSets: pending)
            let answer: Message
            do {
                answer = try await send(.pushRequest(request), to: "/v1/push", &report)
            } catch let error as SyncClientError where error.code == .replicaUnknown && !reregistered {
                // The server's database was restored from before this install registered: take
                // the replica number back (which also meets the new generation), then push again.
                reregistered = true
                try await register(&report)
                continue
            } catch let error as SyncClientError where error.code == .clockAhead && restamped < 3 {
                // Nobody has seen these changes: give them versions from the server's clock.
                restamped += 1
                report.restamps += 1
                try await store.restamp(serverClock: error.serverClock!)
                continue
            }
            guard case .pushResponse(let response) = answer else {
                throw SyncClientError(.protocolViolation, "the server answered a push with another message")
            }
            try await store.recordOutcomes(response)
            report.pushed += response.outcomes.count
            report.rejected += response.outcomes.filter { $0.result == .rejected }.count
            report.flagged += response.outcomes.filter { $0.result == .appliedWithException }.count
        }
    }

    /// Pulls until every bucket is up to date; re-primes buckets behind the server's horizon
    /// (after uploading) and follows changes of the user's bucket set.
    ///
    /// While one response's pages are applied, the next pull is already on its way, with the
    /// cursors those pages set: priming many pages costs the slower of the two, not their sum. A
    /// crash in between leaves the store at its last applied page; the server may then count the
    /// device further along than it is, which at worst has it re-prime a bucket.
    public func pullAll(_ report: inout Report) async throws {
        var replica = try await store.identity().replica
        var cursors = try await store.cursors()
        var prefetched: Task<(Message, Report), any Error>?
        defer { prefetched?.cancel() }
        var reregistered = false
        for _ in 0..<10_000 {
            let answer: Message
            do {
                if let next = prefetched {
                    prefetched = nil
                    let (message, sent) = try await next.value
                    answer = message
                    report.requests += sent.requests
                    report.retries += sent.retries
                    report.bytes += sent.bytes
                } else {
                    answer = try await send(.pullRequest(PullRequest(cursors: cursors, replica: replica)), to: "/v1/pull", &report)
                }
            } catch let error as SyncClientError where error.code == .replicaUnknown && !reregistered {
                // As in a push: the server's database forgot this install.
                reregistered = true
                (replica, cursors) = try await startOver(&report)
                continue
            }
            guard case .pullResponse(let response) = answer else { throw SyncClientError(.protocolViolation, "the server answered a pull with another message") }
            if try await meetGeneration(response.generation, &report) {
                // The pages are for another life of the server's database: none is applied.
                prefetched?.cancel()
                prefetched = nil
                (replica, cursors) = try await startOver(&report)
                continue
            }
            let caughtUp = response.pages.allSatisfy { !$0.hasMore }
            cursors = Self.cursors(cursors, after: response.pages)
            if !caughtUp && response.reprime.isEmpty && !response.bucketsChanged {
                let request = Message.pullRequest(PullRequest(cursors: cursors, replica: replica))
                prefetched = Task {
                    var sent = Report()
                    return (try await self.send(request, to: "/v1/pull", &sent), sent)
                }
            }
            for page in response.pages {
                try await store.apply(page, serverClock: response.serverClock)
                report.pulledChangeSets += page.changeSets.count
                report.pulledRows += page.snapshots.count
                report.removed += page.removes.count
            }
            if !response.reprime.isEmpty {
                try await pushAll(&report)  // the device's own edits go up first
                for bucket in response.reprime { try await store.reprime(bucket: bucket) }
                report.reprimed += response.reprime
                cursors = try await store.cursors()
                continue
            }
            if response.bucketsChanged {
                try await register(&report)
                cursors = try await store.cursors()
                continue
            }
            if caughtUp { return }
        }
        throw SyncClientError(.protocolViolation, "the pull did not end after 10,000 pages")
    }

    /// After the server forgot this install or answered in another generation: registers again
    /// (taking the replica number back, meeting the generation), uploads what the server may
    /// have lost, and returns the replica and cursors the pull goes on from.
    private func startOver(_ report: inout Report) async throws -> (ReplicaID?, [BucketCursor]) {
        try await register(&report)
        try await pushAll(&report)
        return (try await store.identity().replica, try await store.cursors())
    }

    /// `cursors` moved by `pages`, as applying them sets them in the store.
    static func cursors(_ cursors: [BucketCursor], after pages: [BucketPage]) -> [BucketCursor] {
        var moved = Dictionary(cursors.map { ($0.bucket, $0) }, uniquingKeysWith: { _, last in last })
        for page in pages { moved[page.bucket] = BucketCursor(bucket: page.bucket, sequence: page.cursor, resume: page.resume) }
        return moved.values.sorted { $0.bucket < $1.bucket }
    }

    /// Waits on the live channel until the server says a bucket has something new (or its wait
    /// ran out: an empty list); the app then calls ``sync()``.
    public func waitForNews() async throws -> [Bucket] {
        var report = Report()
        let cursors = try await store.cursors()
        let replica = try await store.identity().replica
        guard case .liveNotice(let notice) = try await send(.pullRequest(PullRequest(cursors: cursors, replica: replica)), to: "/v1/live", &report) else {
            throw SyncClientError(.protocolViolation, "the live channel answered with another message")
        }
        return notice.buckets
    }

    // MARK: Attachments

    /// Uploads the bytes of every photo and signature whose record's change set the server has
    /// answered (``DeviceStore/dueUploads(limit:)``), one at a time: first asks whether the
    /// server holds them (then nothing is sent: an upload cut by a crash or a lost answer is
    /// never sent twice), then sends them.
    ///
    /// A missing answer, `rate_limited` and a server error are retried with the same back-off as
    /// any request; a refusal for good (too large, not hashing to the name) is kept on the phone
    /// with its error; a full quota puts the upload off for an hour. Records never wait on
    /// bytes: the push and pull are done by the time this runs.
    public func uploadAttachments(_ report: inout Report) async throws {
        var tried = Set<String>()
        while true {
            let due = try await store.dueUploads(limit: 20).filter { !tried.contains($0.sha256) }
            guard !due.isEmpty else { return }
            for upload in due {
                tried.insert(upload.sha256)
                try await self.upload(upload, &report)
            }
        }
    }

    /// Uploads one blob. Every try asks first, so bytes whose upload lost its answer (or was
    /// cut by a crash) are not sent again.
    private func upload(_ due: DeviceStore.DueUpload, _ report: inout Report) async throws {
        var delay = options.backoff
        for attempt in 1...max(1, options.attempts) {
            if attempt > 1 { report.retries += 1 }
            let check = try await sendBlob(.check(sha256: due.sha256), &report)
            if check.status == 200 {
                try await store.uploadSucceeded(sha256: due.sha256)
                report.alreadyUploaded += 1
                return
            }
            guard check.status == 404 else { return try await putOff(due, check, &report) }
            guard let bytes = try await store.attachmentBytes(sha256: due.sha256) else { return }
            switch try await attemptBlob(.upload(sha256: due.sha256, mediaType: due.mediaType, bytes: bytes), &report) {
            case .answered(let answer) where answer.status == 200:
                try await store.uploadSucceeded(sha256: due.sha256)
                report.uploaded += 1
                report.uploadedBytes += bytes.count
                return
            case .answered(let answer):
                return try await putOff(due, answer, &report)
            case .retry(let told):
                try await wait(&delay, told: told)
            }
        }
        throw SyncClientError(.offline, "the server did not take the upload after \(options.attempts) attempts; the bytes are kept and the next sync resumes")
    }

    /// Keeps a failed upload on the phone: refused for good, or to try again later.
    private func putOff(_ due: DeviceStore.DueUpload, _ answer: BlobResponse, _ report: inout Report) async throws {
        let error = answer.error
        let reason = error.map { "\($0.code): \($0.message)" } ?? "HTTP \(answer.status)"
        switch (answer.status, error?.code) {
        case (400, _), (403, _), (413, _):
            try await store.uploadRefused(sha256: due.sha256, error: reason)
            report.uploadsRefused += 1
        case (429, "quota_exceeded"):
            try await store.uploadFailed(sha256: due.sha256, error: reason, retryAfterMilliseconds: 3_600_000)
            report.uploadsPutOff += 1
        default:
            try await store.uploadFailed(sha256: due.sha256, error: reason)
            report.uploadsPutOff += 1
        }
    }

    /// An attachment's bytes: the phone's if it holds them, else downloaded, checked against
    /// their SHA-256 and kept under the storage budget (``DeviceStore/Options/attachmentBudgetBytes``).
    ///
    /// - Throws: ``SyncClientError/Code/notFound`` when the phone has no such attachment or the
    ///   server does not hold its bytes (yet); ``SyncClientError/Code/protocolViolation`` when
    ///   the downloaded bytes do not hash to their name.
    public func attachmentBytes(_ attachment: RecordID) async throws -> [UInt8] {
        guard let record = try await store.record("attachments", attachment), let sha = record.text("sha256") else {
            throw SyncClientError(.notFound, "this phone has no attachment \(attachment.uuidString)")
        }
        if let bytes = try await store.attachmentBytes(sha256: sha) { return bytes }
        var report = Report()
        let answer = try await sendBlob(.download(sha256: sha), &report)
        guard answer.status == 200 else {
            throw SyncClientError(.notFound, "the server does not hold the bytes of \(attachment.uuidString) (\(answer.error?.message ?? "HTTP \(answer.status)"))")
        }
        do {
            try await store.keepFetched(sha256: sha, mediaType: record.text("media_type") ?? answer.mediaType, bytes: answer.body)
        } catch let error as StoreError where error.code == .invalidArgument {
            throw SyncClientError(.protocolViolation, error.message)
        }
        return answer.body
    }

    /// Fetches records the phone does not keep (an old visit or order the rep opens, outside the
    /// phone's window) with the rows that follow them (its check-ins, its lines), keeps them for
    /// ``Options/fetchedKeepMilliseconds``, and returns what the server sent.
    ///
    /// - Returns: The records and rows received, and the refs the server did not serve (unknown,
    ///   or not the user's to see).
    public func fetch(_ refs: [RecordRef]) async throws -> FetchResponse {
        guard !refs.isEmpty else { return FetchResponse(snapshots: [], missing: []) }
        var report = Report()
        var found = FetchResponse(snapshots: [], missing: [])
        for start in stride(from: 0, to: refs.count, by: WireLimits.fetchRefsMax) {
            let part = Array(refs[start..<min(refs.count, start + WireLimits.fetchRefsMax)])
            guard case .fetchResponse(let answer) = try await send(.fetchRequest(FetchRequest(refs: part)), to: "/v1/fetch", &report) else {
                throw SyncClientError(.protocolViolation, "the server answered a fetch with another message")
            }
            try await store.keepFetched(answer.snapshots)
            found.snapshots += answer.snapshots
            found.missing += answer.missing
        }
        return found
    }

    /// Sends a blob request with the retries of ``send(_:to:_:)``: no answer, `rate_limited` and
    /// 5xx wait and try again; an expired or refused token is thrown; other answers are returned.
    private func sendBlob(_ request: BlobRequest, _ report: inout Report) async throws -> BlobResponse {
        var delay = options.backoff
        for attempt in 1...max(1, options.attempts) {
            if attempt > 1 { report.retries += 1 }
            switch try await attemptBlob(request, &report) {
            case .answered(let answer): return answer
            case .retry(let told): try await wait(&delay, told: told)
            }
        }
        throw SyncClientError(.offline, "the server did not answer after \(options.attempts) attempts; the bytes are kept and the next sync resumes")
    }

    /// What one blob request came to.
    private enum BlobAttempt {
        /// An answer to act on.
        case answered(BlobResponse)
        /// No answer, `rate_limited` (with the wait the server asked for) or a server error.
        case retry(told: UInt64?)
    }

    /// Sends a blob request once; throws an expired or refused token as ``SyncClientError``.
    private func attemptBlob(_ request: BlobRequest, _ report: inout Report) async throws -> BlobAttempt {
        report.requests += 1
        let response: BlobResponse
        do {
            response = try await transport.blob(request, token: credentials.token)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return .retry(told: nil)
        }
        if case .upload(_, _, let bytes) = request { report.bytes += bytes.count }
        report.bytes += response.body.count
        let error = response.error
        switch (response.status, error?.code) {
        case (401, "token_expired"): throw SyncClientError(.tokenExpired, "the token has expired: sign in again, then sync")
        case (403, "user_deactivated"): throw SyncClientError(.userDeactivated, "the user was deactivated: this phone stops syncing (\(error?.message ?? ""))")
        case (403, "device_revoked"): throw SyncClientError(.deviceRevoked, "an admin revoked this device: it stops syncing")
        case (403, "device_wiped"): throw SyncClientError(.deviceWiped, "an admin wiped this device: what it held was uploaded and its replica deleted")
        case (401, _): throw SyncClientError(.unauthorized, "the server refused the token: sign in again (\(error?.message ?? ""))")
        case (429, "rate_limited"), (500..., _): return .retry(told: error?.retryAfterMilliseconds)
        default: return .answered(response)
        }
    }

    /// Registers the install (again), naming the replica number it holds so that a server whose
    /// database was restored from before the registration gives it back; keeps the user's buckets
    /// and meets the server's generation.
    ///
    /// When the server could not give the number back (another device holds it), the install takes
    /// the new one and the outbox is re-stamped with it from the server's clock.
    private func register(_ report: inout Report) async throws {
        let identity = try await store.identity()
        let request = RegisterRequest(installation: identity.installation, appVersion: options.appVersion, platform: options.platform,
                                      schemaRevision: UInt64(FieldSalesSchema.schema.revision), previousReplica: identity.replica)
        guard case .registerResponse(let response) = try await send(.registerRequest(request), to: "/v1/register", &report) else {
            throw SyncClientError(.protocolViolation, "the server answered a registration with another message")
        }
        if identity.replica == nil || identity.user != credentials.user {
            try await store.register(replica: response.replica, user: credentials.user, role: credentials.role, serverClock: response.serverClock)
        } else if identity.replica != response.replica {
            try await store.register(replica: response.replica, user: credentials.user, role: credentials.role, serverClock: response.serverClock)
            try await store.restamp(serverClock: response.serverClock, replica: response.replica)
        }
        try await store.setBuckets(response.buckets)
        _ = try await meetGeneration(response.generation, &report)
    }

    /// Meets the generation an answer came in (``DeviceStore/meet(_:)``); true when it changed.
    private func meetGeneration(_ generation: Generation, _ report: inout Report) async throws -> Bool {
        guard case .changed(let requeued) = try await store.meet(generation) else { return false }
        report.generationsMet += 1
        report.requeued += requeued
        return true
    }

    /// Sends with retries: no answer, `rate_limited` and `unavailable` wait and try again; other
    /// errors are thrown as ``SyncClientError``.
    private func send(_ message: Message, to route: String, _ report: inout Report) async throws -> Message {
        var delay = options.backoff
        for attempt in 1...max(1, options.attempts) {
            if attempt > 1 { report.retries += 1 }
            report.requests += 1
            let response: TransportResponse
            do {
                response = try await transport.send(message, to: route, token: credentials.token)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                try await wait(&delay, told: nil)
                continue
            }
            report.bytes += response.bytes
            guard case .error(let error) = response.message else { return response.message }
            switch error.code {
            case ErrorResponse.Code.replicaUnknown:
                throw SyncClientError(.replicaUnknown, error.message)
            case ErrorResponse.Code.clockAhead where error.serverClock != nil:
                throw SyncClientError(.clockAhead, error.message, serverClock: error.serverClock)
            case ErrorResponse.Code.rateLimited, ErrorResponse.Code.unavailable:
                try await wait(&delay, told: error.retryAfterMilliseconds)
            case ErrorResponse.Code.tokenExpired:
                throw SyncClientError(.tokenExpired, "the token has expired: sign in again, then sync")
            case ErrorResponse.Code.userDeactivated:
                throw SyncClientError(.userDeactivated, "the user was deactivated: this phone stops syncing (\(error.message))")
            case ErrorResponse.Code.deviceRevoked:
                throw SyncClientError(.deviceRevoked, "an admin revoked this device: it stops syncing")
            case ErrorResponse.Code.deviceWiped:
                throw SyncClientError(.deviceWiped, "an admin wiped this device: what it held was uploaded and its replica deleted")
            case ErrorResponse.Code.unauthorized:
                throw SyncClientError(.unauthorized, "the server refused the token: sign in again (\(error.message))")
            case ErrorResponse.Code.unsupportedVersion, ErrorResponse.Code.staleAppVersion:
                throw SyncClientError(.upgradeRequired, "update the app: \(error.message)")
            default:
                throw SyncClientError(.refused, "\(error.code): \(error.message)")
            }
        }
        throw SyncClientError(.offline, "the server did not answer after \(options.attempts) attempts; the outbox is kept and the next sync resumes")
    }

    private func wait(_ delay: inout Duration, told milliseconds: UInt64?) async throws {
        let pause: Int64
        if let milliseconds {
            pause = Int64(clamping: milliseconds)
        } else {
            // Full jitter: anywhere between zero and the current back-off.
            let span = max(1, delay.components.seconds * 1_000 + delay.components.attoseconds / 1_000_000_000_000_000)
            pause = Int64(random.next() % UInt64(span))
            delay = min(delay * 2, options.backoffMax)
        }
        let resume = activity
        try? await store.reportSync(.waiting(milliseconds: pause, reason: milliseconds == nil ? "retrying a request that failed" : "the server asked to wait"))
        try await options.sleep(.milliseconds(pause))
        if resume != .idle { try? await store.reportSync(.started(resume)) }
    }
}

/// Why a sync stopped.
public struct SyncClientError: Error, Sendable, CustomStringConvertible {
    /// What kind of error.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable name.
        public let name: String
        init(_ name: String) { self.name = name }
        /// No answer after every retry: nothing is lost; sync again later.
        public static let offline = Code("offline")
        /// The token expired: sign in again (``SyncClient/setToken(_:)``) and sync.
        public static let tokenExpired = Code("token_expired")
        /// The token was refused.
        public static let unauthorized = Code("unauthorized")
        /// An admin deactivated the user: stop syncing (signing in again will not help).
        public static let userDeactivated = Code("user_deactivated")
        /// An admin revoked this device: stop syncing.
        public static let deviceRevoked = Code("device_revoked")
        /// An admin wiped this device: ``SyncClient/sync()`` uploaded what it held and deleted the replica.
        public static let deviceWiped = Code("device_wiped")
        /// The server no longer accepts this app version.
        public static let upgradeRequired = Code("upgrade_required")
        /// The server holds no device with this install's replica number (its database was
        /// restored from before the install registered); ``SyncClient/sync()`` registers again
        /// and carries on, so an app sees it only if that fails too.
        public static let replicaUnknown = Code("replica_unknown")
        /// The clock stayed ahead after re-stamping: correct the phone's clock.
        public static let clockAhead = Code("clock_ahead")
        /// The server refused the request for another reason (the message says which).
        public static let refused = Code("refused")
        /// The attachment's bytes are neither on the phone nor on the server (yet).
        public static let notFound = Code("not_found")
        /// The server answered something the protocol does not allow.
        public static let protocolViolation = Code("protocol_violation")
        public var description: String { name }
    }

    /// What kind of error.
    public var code: Code
    /// What happened and what to do.
    public var message: String
    /// For ``Code/clockAhead``: the server's clock.
    public var serverClock: HLC?

    init(_ code: Code, _ message: String, serverClock: HLC? = nil) {
        self.code = code
        self.message = message
        self.serverClock = serverClock
    }

    public var description: String { "\(code): \(message)" }
}
