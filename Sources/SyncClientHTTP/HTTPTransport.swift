public import AsyncHTTPClient
import Foundation
public import NIOCore
import NIOHTTP1
public import SyncClient
public import SyncWire
import SyncCore

/// ``SyncTransport`` over HTTP/1.1 with AsyncHTTPClient: binary frames, deflated, bearer token.
public struct HTTPTransport: SyncTransport {
    /// The server, for example `http://127.0.0.1:8080`.
    public let baseURL: String
    /// The client the requests go through (the caller owns and shuts it down).
    public let client: HTTPClient
    /// How long a request may take (the live channel's long poll gets 30 seconds more).
    public let timeout: TimeAmount

    /// Creates a transport.
    public init(baseURL: String, client: HTTPClient = .shared, timeout: TimeAmount = .seconds(30)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.client = client
        self.timeout = timeout
    }

    public func send(_ message: Message, to route: String, token: String) async throws -> TransportResponse {
        let body = try Frame.encode(message, compress: true)
        var request = HTTPClientRequest(url: baseURL + route)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/vnd.fieldsync.frame")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: route == "/v1/live" ? timeout + .seconds(30) : timeout)
        let answer = try await response.body.collect(upTo: WireLimits.bodyBytesMax)
        let bytes = Array(answer.readableBytesView)
        let decoded: Message
        do {
            decoded = try Frame.decode(bytes)
        } catch {
            // Not a frame (a proxy's error page, say): report it as the server being unavailable.
            decoded = .error(ErrorResponse(code: ErrorResponse.Code.unavailable, message: "the answer was not a FieldSync frame (HTTP \(response.status.code))"))
        }
        return TransportResponse(status: Int(response.status.code), message: decoded, bytes: body.count + bytes.count)
    }

    public func blob(_ blob: BlobRequest, token: String) async throws -> BlobResponse {
        var request = HTTPClientRequest(url: baseURL + blob.route)
        request.method = HTTPMethod(rawValue: blob.method)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if case .upload(_, let mediaType, let bytes) = blob {
            request.headers.add(name: "Content-Type", value: mediaType)
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        let response = try await client.execute(request, timeout: timeout)
        // A download is at most a blob; an error is a short JSON document.
        let answer = try await response.body.collect(upTo: Schema.blobBytesMax + 64 * 1024)
        return BlobResponse(status: Int(response.status.code), body: Array(answer.readableBytesView),
                            mediaType: response.headers.first(name: "Content-Type") ?? "application/octet-stream",
                            errorCode: response.headers.first(name: "FieldSync-Error"))
    }
}
