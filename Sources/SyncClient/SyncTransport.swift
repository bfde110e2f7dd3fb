public import SyncWire

/// How a ``SyncClient`` reaches the server: HTTP in the app (`SyncClientHTTP`), in-process in
/// deterministic simulations.
public protocol SyncTransport: Sendable {
    /// Sends `message` to `route` (`/v1/push`, …) with the bearer `token` and returns the answer.
    ///
    /// - Throws: Only when no answer came (no network, a timeout, a connection cut): the client
    ///   retries those. An answer with an error status is returned, not thrown.
    func send(_ message: Message, to route: String, token: String) async throws -> TransportResponse

    /// Sends a blob request with the bearer `token` and returns the answer.
    ///
    /// - Throws: Only when no answer came, as ``send(_:to:token:)``.
    func blob(_ request: BlobRequest, token: String) async throws -> BlobResponse
}

/// The server's answer to one request.
public struct TransportResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// The decoded body.
    public var message: Message
    /// Bytes on the wire, both ways (bodies as sent: compressed frames).
    public var bytes: Int

    /// Creates a response.
    public init(status: Int, message: Message, bytes: Int) {
        self.status = status
        self.message = message
        self.bytes = bytes
    }
}

/// A request about one blob's bytes, on `/v1/blobs/{sha256}` (`SyncProtocol/office.md`, Blobs).
public enum BlobRequest: Sendable, Hashable {
    /// `HEAD`: whether the server already holds the bytes (200) or not (404). An upload asks
    /// first, so that bytes the server has are never sent twice.
    case check(sha256: String)
    /// `PUT`: uploads the bytes.
    case upload(sha256: String, mediaType: String, bytes: [UInt8])
    /// `GET`: downloads them.
    case download(sha256: String)

    /// The blob's name.
    public var sha256: String {
        switch self {
        case .check(let sha), .upload(let sha, _, _), .download(let sha): sha
        }
    }

    /// The HTTP method.
    public var method: String {
        switch self {
        case .check: "HEAD"
        case .upload: "PUT"
        case .download: "GET"
        }
    }

    /// The path.
    public var route: String { "/v1/blobs/\(sha256)" }
}

/// The server's answer about a blob.
public struct BlobResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// The bytes of a download, or the JSON of an error (`{"error", "message", "retry_after_ms"}`).
    public var body: [UInt8]
    /// The `Content-Type` of the answer.
    public var mediaType: String
    /// The `FieldSync-Error` header: an error's code, also where there is no body (`HEAD`).
    public var errorCode: String?

    /// Creates a response.
    public init(status: Int, body: [UInt8], mediaType: String, errorCode: String? = nil) {
        self.status = status
        self.body = body
        self.mediaType = mediaType
        self.errorCode = errorCode
    }

    /// An error answer's code, message and wait: from the JSON body, else from the header.
    public var error: (code: String, message: String, retryAfterMilliseconds: UInt64?)? {
        guard status >= 400 else { return nil }
        guard case .object(let members)? = try? JSONValue.parse(body) else { return errorCode.map { ($0, "HTTP \(status)", nil) } }
        var code = errorCode, message = "", wait: UInt64?
        for member in members {
            switch (member.key, member.value) {
            case ("error", .string(let text)): code = text
            case ("message", .string(let text)): message = text
            case ("retry_after_ms", .number(let text)): wait = UInt64(text)
            default: break
            }
        }
        return code.map { ($0, message, wait) }
    }
}
