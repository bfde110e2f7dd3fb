import Foundation
public import SyncClient
import SyncCore
public import SyncServer
public import SyncWire
import Synchronization

/// The in-process transport: a device's requests go, as the very bytes HTTP would carry, to a
/// ``SyncService`` in the same process — no socket, no timing, so a simulation is deterministic.
///
/// The service can be swapped (a server restart) while devices hold the transport.
public final class InProcessTransport: SyncTransport {
    private let service: Mutex<SyncService>

    /// Creates a transport to `service`.
    public init(_ service: SyncService) {
        self.service = Mutex(service)
    }

    /// Replaces the service, as a restarted server would be.
    public func restart(with service: SyncService) {
        self.service.withLock { $0 = service }
    }

    /// Encodes `message` as a compressed frame, has the service answer it, decodes the answer.
    public func send(_ message: Message, to route: String, token: String) async throws -> TransportResponse {
        let request = try Frame.encode(message, compress: true)
        let service = self.service.withLock { $0 }
        let (status, body) = await service.respond(route: route, authorization: "Bearer \(token)", body: request)
        return TransportResponse(status: status, message: try Frame.decode(body), bytes: request.count + body.count)
    }

    /// Has the service answer a blob request, as `/v1/blobs/{sha256}` would over HTTP.
    public func blob(_ request: BlobRequest, token: String) async throws -> BlobResponse {
        let service = self.service.withLock { $0 }
        var contentType: String?, body: [UInt8] = []
        if case .upload(_, let mediaType, let bytes) = request { (contentType, body) = (mediaType, bytes) }
        let answer = await service.respondBlob(method: request.method, sha256: request.sha256, authorization: "Bearer \(token)",
                                               contentType: contentType, body: body)
        return BlobResponse(status: answer.status, body: answer.body, mediaType: answer.contentType ?? "application/octet-stream", errorCode: answer.errorCode)
    }
}

/// The faults a swarm injects into a device's requests.
public struct SwarmFault: Hashable, Sendable, CustomStringConvertible, CaseIterable {
    /// The stable name, as `--faults` takes it.
    public let name: String
    public var description: String { name }

    /// A request lost before the server saw it.
    public static let droppedRequest = SwarmFault(name: "dropped-request")
    /// A response lost after the server committed.
    public static let droppedResponse = SwarmFault(name: "dropped-response")
    /// A request delivered twice.
    public static let duplicated = SwarmFault(name: "duplicated")
    /// An old push delivered again after newer ones.
    public static let reordered = SwarmFault(name: "reordered")
    /// The app killed in the middle of a sync, and started again from its database.
    public static let crash = SwarmFault(name: "crash")
    /// The server restarted (a new process: new clock, new connections).
    public static let serverRestart = SwarmFault(name: "server-restart")
    /// PostgreSQL restarted under the running server.
    public static let postgresRestart = SwarmFault(name: "postgres-restart")
    /// Device clocks hours behind and days ahead.
    public static let clockSkew = SwarmFault(name: "clock-skew")
    /// Tokens expiring: the app signs in again.
    public static let expiredToken = SwarmFault(name: "expired-token")
    /// Territory ownership moving between reps.
    public static let territoryChange = SwarmFault(name: "territory-change")
    /// Visits reassigned and cancelled by the dispatcher while reps work.
    public static let assignmentChange = SwarmFault(name: "assignment-change")
    /// Devices offline for hours or days.
    public static let offline = SwarmFault(name: "offline")
    /// The whole fleet comes back 40 days after its last working day, outboxes unsent: the days'
    /// work has left the phones' window and retires while late changes to it arrive.
    public static let monthAway = SwarmFault(name: "month-away")

    /// Every fault, in the order `--help` lists them.
    public static let allCases: [SwarmFault] = [
        droppedRequest, droppedResponse, duplicated, reordered, crash, serverRestart, postgresRestart, clockSkew, expiredToken,
        territoryChange, assignmentChange, offline, monthAway,
    ]

    /// Parses `all` or a comma-separated list of names.
    public static func parse(_ list: String) throws -> Set<SwarmFault> {
        if list == "all" { return Set(allCases) }
        if list.isEmpty || list == "none" { return [] }
        var faults = Set<SwarmFault>()
        for name in list.split(separator: ",") {
            guard let fault = allCases.first(where: { $0.name == name.trimmingCharacters(in: .whitespaces) }) else {
                throw SwarmError("unknown fault \(name); the faults are all, none, or \(allCases.map(\.name).joined(separator: ", "))")
            }
            faults.insert(fault)
        }
        return faults
    }
}

/// A swarm that cannot run as asked.
public struct SwarmError: Error, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Wraps a transport with a device's share of the faults, decided by a seeded generator.
final class FaultyTransport: SyncTransport {
    struct Lost: Error {}

    let inner: any SyncTransport
    let faults: Set<SwarmFault>
    private let state: Mutex<(random: SplitMix64, stale: (Message, String)?, crashArmed: Bool)>
    /// Per-mille rates.
    static let lossRate: UInt64 = 30, duplicateRate: UInt64 = 20, reorderRate: UInt64 = 20

    init(inner: any SyncTransport, faults: Set<SwarmFault>, seed: UInt64) {
        self.inner = inner
        self.faults = faults
        self.state = Mutex((SplitMix64(seed: seed), nil, false))
    }

    /// How many times each fault struck.
    let struck = Mutex<[String: Int]>([:])

    private func strike(_ fault: SwarmFault) { struck.withLock { $0[fault.name, default: 0] += 1 } }

    /// The next request crashes the app after it reached the server.
    func armCrash() { state.withLock { $0.crashArmed = true } }

    func send(_ message: Message, to route: String, token: String) async throws -> TransportResponse {
        try await deliver(replaying: (message, route), token: token) { try await self.inner.send(message, to: route, token: token) }
    }

    /// A blob request meets the same network as a frame: lost either way, delivered twice, or
    /// cut by the app's death after the server acted.
    func blob(_ request: BlobRequest, token: String) async throws -> BlobResponse {
        try await deliver(replaying: nil, token: token) { try await self.inner.blob(request, token: token) }
    }

    /// Sends through `inner` under this device's faults; `push` is the request a later push may
    /// replay out of order.
    private func deliver<Answer>(replaying push: (Message, String)?, token: String, _ send: () async throws -> Answer) async throws -> Answer {
        let (roll, stale, crash) = state.withLock { state -> ((UInt64, UInt64, UInt64, UInt64), (Message, String)?, Bool) in
            let rolls = (state.random.next() % 1_000, state.random.next() % 1_000, state.random.next() % 1_000, state.random.next() % 1_000)
            var replay: (Message, String)?
            if faults.contains(.reordered), let push, push.1 == "/v1/push" {
                // Now and then the previous push arrives again, after newer ones went through.
                if rolls.3 < Self.reorderRate { replay = state.stale }
                state.stale = push
            }
            let crash = state.crashArmed
            state.crashArmed = false
            return (rolls, replay, crash)
        }
        if faults.contains(.droppedRequest), roll.0 < Self.lossRate {
            strike(.droppedRequest)
            throw Lost()
        }
        if let (old, oldRoute) = stale {
            strike(.reordered)
            _ = try? await inner.send(old, to: oldRoute, token: token)  // an old push arriving late
        }
        var response = try await send()
        if faults.contains(.duplicated), roll.2 < Self.duplicateRate {
            strike(.duplicated)
            response = try await send()
        }
        // The app dies after the request reached the server: the sync stops where it is.
        if crash { throw CancellationError() }
        if faults.contains(.droppedResponse), roll.1 < Self.lossRate {
            strike(.droppedResponse)
            throw Lost()
        }
        return response
    }
}
