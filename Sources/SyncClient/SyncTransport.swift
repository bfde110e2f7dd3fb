public import SyncWire

/// How a ``SyncClient`` reaches the server: HTTP in the app (`SyncClientHTTP`), in-process in
/// deterministic simulations.
public protocol SyncTransport: Sendable {
    /// Sends `message` to `route` (`/v1/push`, …) with the bearer `token` and returns the answer.
    ///
    /// - Throws: Only when no answer came (no network, a timeout, a connection cut): the client
    ///   retries those. An answer with an error status is returned, not thrown.
    func send(_ message: Message, to route: String, token: String) async throws -> TransportResponse
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
