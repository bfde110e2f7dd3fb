internal import CLibPQ
import Foundation
public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Receives PostgreSQL notifications (`LISTEN channel`) on a connection of its own.
///
/// A thread of its own waits on the connection's socket and hands each payload to
/// ``notifications``. When the connection breaks it reconnects with back-off, and then yields
/// ``missedPayload`` once: notifications sent while it was away are lost, so listeners should
/// re-check whatever they were waiting for.
public final class PostgresListener: Sendable {
    /// Yielded after a reconnect, when notifications may have been missed.
    public static let missedPayload = ""

    /// Every payload, in order of arrival. One consumer.
    public let notifications: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let stopped = StopFlag()
    /// What ``stop()`` raises; the pool that made the listener keeps it without keeping the listener.
    var stopFlag: StopFlag { stopped }

    /// Starts listening on `channel` (a plain identifier).
    public init(connectionString: String, channel: String, logger: Logger = Logger(label: "fieldsync.postgres.listen")) throws(PostgresError) {
        try PostgresConnection.validate(connectionString)
        guard channel.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !channel.isEmpty else {
            throw PostgresError(.client, message: "a channel name is letters, digits and underscores")
        }
        (notifications, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(10_000))
        let worker = Thread { [stopped, continuation] in
            Self.run(connectionString: connectionString, channel: channel, stopped: stopped, continuation: continuation, logger: logger)
        }
        worker.name = "fieldsync.listen"
        worker.start()
    }

    /// Stops listening and ends ``notifications`` (within about a fifth of a second).
    public func stop() {
        stopped.raise()
    }

    deinit { stop() }

    private static func run(connectionString: String, channel: String, stopped: StopFlag,
                            continuation: AsyncStream<String>.Continuation, logger: Logger) {
        defer { continuation.finish() }
        var backoff = 0.1
        var connectedBefore = false
        while !stopped.isRaised {
            guard let connection = PQconnectdb("connect_timeout=5 application_name=fieldsync-listen " + quoted(connectionString)),
                  PQstatus(connection) == CONNECTION_OK else {
                logger.warning("the notification listener cannot connect; retrying", metadata: ["backoff_s": "\(backoff)"])
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
                continue
            }
            defer { PQfinish(connection) }
            // The server's notices (a shutdown's FATAL among them) are not ours to print.
            PQsetNoticeProcessor(connection, { _, _ in }, nil)
            let result = PQexec(connection, "LISTEN \(channel)")
            let ok = PQresultStatus(result) == PGRES_COMMAND_OK
            PQclear(result)
            guard ok else { continue }
            backoff = 0.1
            if connectedBefore { continuation.yield(missedPayload) }
            connectedBefore = true
            var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            while !stopped.isRaised {
                let ready = poll(&descriptor, 1, 200)
                if ready < 0 && errno != EINTR { break }
                if ready > 0 {
                    guard PQconsumeInput(connection) == 1 else { break }
                    while let notice = PQnotifies(connection) {
                        continuation.yield(String(cString: notice.pointee.extra))
                        PQfreemem(notice)
                    }
                }
                if PQstatus(connection) != CONNECTION_OK { break }
            }
        }
    }

    /// A URL is passed as `dbname`, which libpq expands; key=value text is used as it is.
    private static func quoted(_ connectionString: String) -> String {
        guard connectionString.hasPrefix("postgres") else { return connectionString }
        return "dbname='" + connectionString.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

/// A flag the listener's thread polls; shared with it without keeping the listener alive.
final class StopFlag: Sendable {
    private let raised = Mutex(false)
    var isRaised: Bool { raised.withLock { $0 } }
    func raise() { raised.withLock { $0 = true } }
}
