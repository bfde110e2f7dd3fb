import Hummingbird
import NIOCore
import OfficeStore
import SyncEngine
import SyncCore
import SyncWire

/// `PUT /v1/blobs/{sha256}` and `GET /v1/blobs/{sha256}`: photo and signature bytes, named by their
/// SHA-256. An upload whose bytes do not hash to the name is refused; an attachment that references
/// the bytes completes when they arrive. Errors are JSON, as in the office API.
struct BlobRoutes: Sendable {
    let store: SyncStore
    let tokens: TokenAuthority
    let limiter: RateLimiter

    func register(on router: Router<BasicRequestContext>) {
        router.put("/v1/blobs/:sha256") { request, context in
            try await self.authorized(request) { claims in
                let sha = context.parameters.get("sha256") ?? ""
                let bytes: [UInt8]
                do {
                    bytes = Array(try await request.body.collect(upTo: SyncStore.blobBytesMax).readableBytesView)
                } catch {
                    return OfficeRoutes.error(.contentTooLarge, "body_too_large", "a blob has at most \(SyncStore.blobBytesMax) bytes")
                }
                limiter.charge(Double(bytes.count) / RateLimiter.Cost.bytesPerToken, for: claims.user)
                try await self.store.storeBlob(sha256: sha, mediaType: request.headers[.contentType] ?? "application/octet-stream", bytes: bytes,
                                               by: claims.user, tenant: claims.tenant)
                return OfficeRoutes.json(.ok, JSONValue.fields([("sha256", .string(sha.lowercased())), ("size_bytes", .number(String(bytes.count)))]))
            }
        }
        router.get("/v1/blobs/:sha256") { request, context in
            try await self.authorized(request) { claims in
                guard let blob = try await self.store.blob(sha256: context.parameters.get("sha256") ?? "", for: claims.user, role: claims.role, tenant: claims.tenant) else {
                    return OfficeRoutes.error(.notFound, "not_found", "no blob with that SHA-256 has been uploaded")
                }
                limiter.charge(Double(blob.bytes.count) / RateLimiter.Cost.bytesPerToken, for: claims.user)
                // Served as a download in a sandbox: uploaded bytes never run as a page.
                return Response(status: .ok, headers: [.contentType: blob.mediaType, .xContentTypeOptions: "nosniff",
                                                       .contentDisposition: "attachment", .contentSecurityPolicy: "default-src 'none'; sandbox"],
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: blob.bytes)))
            }
        }
    }

    private func authorized(_ request: Request, _ body: (TokenAuthority.Claims) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            return OfficeRoutes.error(.unauthorized, "unauthorized", "send a bearer token")
        }
        do {
            let claims = try await tokens.verify(String(header.dropFirst(7)))
            if let wait = limiter.take(for: claims.user) { return OfficeRoutes.rateLimited(wait) }
            do {
                return try await body(claims)
            } catch let error as SyncStore.OfficeError {
                return OfficeRoutes.error(error)
            }
        } catch let error as TokenError {
            return OfficeRoutes.error(.unauthorized, error.code == .expired ? "token_expired" : "unauthorized", error.message)
        }
    }
}
