import HTTPTypes
import Hummingbird
import NIOCore
import OfficeStore
import SyncEngine
import SyncCore
import SyncWire

/// `HEAD`, `PUT` and `GET /v1/blobs/{sha256}`: photo and signature bytes, named by their SHA-256.
/// `HEAD` tells whether the bytes are stored (so a phone never sends them twice); an upload whose
/// bytes do not hash to the name is refused; an attachment that references the bytes completes
/// when they arrive. Errors are JSON, as in the office API, and name their code in a
/// `FieldSync-Error` header too (a `HEAD` answer has no body).
struct BlobRoutes: Sendable {
    let store: SyncStore
    let auth: Authenticator
    let limiter: RateLimiter

    /// One answer, before it meets a socket: what the routes send and ``SyncService`` returns.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields = [:]
        var body: [UInt8] = []

        static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfterMilliseconds: UInt64? = nil) -> Answer {
            var members = [JSONValue.Member("error", .string(code)), JSONValue.Member("message", .string(message))]
            if let retryAfterMilliseconds { members.append(JSONValue.Member("retry_after_ms", .number(String(retryAfterMilliseconds)))) }
            return Answer(status: status, headers: [.contentType: "application/json", .fieldSyncError: code], body: Array(JSONValue.object(members).printed.utf8))
        }

        static func error(_ error: SyncStore.OfficeError) -> Answer {
            .error(OfficeRoutes.status(of: error.code), error.code.rawValue, error.message)
        }

        var response: Response {
            Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    /// The methods, as the routes and ``SyncService`` name them.
    enum Method: String, Sendable {
        case head = "HEAD", put = "PUT", get = "GET"
    }

    func register(on router: Router<BasicRequestContext>) {
        router.head("/v1/blobs/:sha256") { request, context in
            var answer = await self.answer(.head, sha256: context.parameters.get("sha256") ?? "", authorization: request.headers[.authorization])
            answer.body = []
            return answer.response
        }
        router.put("/v1/blobs/:sha256") { request, context in
            let bytes: [UInt8]
            do {
                bytes = Array(try await request.body.collect(upTo: SyncStore.blobBytesMax).readableBytesView)
            } catch {
                return Answer.error(.contentTooLarge, "body_too_large", "a blob has at most \(SyncStore.blobBytesMax) bytes").response
            }
            return await self.answer(.put, sha256: context.parameters.get("sha256") ?? "", authorization: request.headers[.authorization],
                                     contentType: request.headers[.contentType], body: bytes).response
        }
        router.get("/v1/blobs/:sha256") { request, context in
            await self.answer(.get, sha256: context.parameters.get("sha256") ?? "", authorization: request.headers[.authorization]).response
        }
    }

    /// Answers one blob request: authenticates, charges the caller's budget, and stores, tells or
    /// serves the bytes.
    func answer(_ method: Method, sha256: String, authorization: String?, contentType: String? = nil, body: [UInt8] = []) async -> Answer {
        let claims: TokenAuthority.Claims
        do {
            claims = try await auth.claims(authorization)
        } catch let error as TokenError {
            return .error(HTTPResponse.Status(code: error.httpStatus), error.answerCode, error.message)
        } catch {
            return .error(.serviceUnavailable, "unavailable", "the server could not check the token: retry later")
        }
        if let wait = limiter.take(for: claims.user) {
            return .error(.tooManyRequests, "rate_limited", "too many requests: retry later", retryAfterMilliseconds: wait)
        }
        do {
            switch method {
            case .head:
                guard let size = try await store.blobSize(sha256: sha256, for: claims.user, role: claims.role, tenant: claims.tenant) else {
                    return .error(.notFound, "not_found", "no blob with that SHA-256 has been uploaded")
                }
                return Answer(status: .ok, headers: [.contentLength: String(size)])
            case .put:
                guard body.count <= SyncStore.blobBytesMax else {
                    return .error(.contentTooLarge, "body_too_large", "a blob has at most \(SyncStore.blobBytesMax) bytes")
                }
                limiter.charge(Double(body.count) / RateLimiter.Cost.bytesPerToken, for: claims.user)
                try await store.storeBlob(sha256: sha256, mediaType: contentType ?? "application/octet-stream", bytes: body, by: claims.user, tenant: claims.tenant)
                return Answer(status: .ok, headers: [.contentType: "application/json"],
                              body: Array(JSONValue.fields([("sha256", .string(sha256.lowercased())), ("size_bytes", .number(String(body.count)))]).printed.utf8))
            case .get:
                guard let blob = try await store.blob(sha256: sha256, for: claims.user, role: claims.role, tenant: claims.tenant) else {
                    return .error(.notFound, "not_found", "no blob with that SHA-256 has been uploaded")
                }
                limiter.charge(Double(blob.bytes.count) / RateLimiter.Cost.bytesPerToken, for: claims.user)
                // Served as a download in a sandbox: uploaded bytes never run as a page.
                return Answer(status: .ok, headers: [.contentType: blob.mediaType, .xContentTypeOptions: "nosniff",
                                                     .contentDisposition: "attachment", .contentSecurityPolicy: "default-src 'none'; sandbox"],
                              body: blob.bytes)
            }
        } catch let error as SyncStore.OfficeError {
            return .error(error)
        } catch {
            return .error(.serviceUnavailable, "unavailable", "the blob store is unavailable: retry later")
        }
    }
}

extension HTTPField.Name {
    /// The code of a blob error, also in the JSON body; the only place a `HEAD` answer can carry it.
    static let fieldSyncError = HTTPField.Name("FieldSync-Error")!
}
