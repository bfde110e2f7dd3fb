import Synchronization

/// A typed read of the phone's replica (today's visits, a customer with its orders, …), which an
/// app runs once with ``DeviceStore/read(_:)`` or observes with ``DeviceStore/observe(_:)``.
///
/// A query is a function of the database: the same rows give the same value. Observation
/// re-reads only after a commit that wrote one of the tables the last read used (as SQLite's
/// authorizer reported them when its statements were prepared), and yields only when the value
/// changed.
public struct DeviceQuery<Value: Sendable>: Sendable {
    let body: @Sendable (isolated SQLiteDatabase, DeviceSchema) throws -> Value

    init(_ body: @escaping @Sendable (isolated SQLiteDatabase, DeviceSchema) throws -> Value) {
        self.body = body
    }

    /// The query's value, transformed: observing it yields when the transformed value changes.
    public func map<Other: Sendable>(_ transform: @escaping @Sendable (Value) -> Other) -> DeviceQuery<Other> {
        let body = self.body
        return DeviceQuery<Other> { db, schema in transform(try body(db, schema)) }
    }
}

extension DeviceStore {
    /// Runs `query` once, in one read transaction.
    public func read<Value>(_ query: DeviceQuery<Value>) async throws -> Value {
        let schema = self.schema
        return try await database.transaction { db in try query.body(db, schema) }
    }

    /// Observes `query`: yields its value at once, then again each time a local action, a pulled
    /// page or any other commit changes it — and only then. Commits that touch none of the
    /// tables the query reads cost nothing; a commit that touches them but leaves the value as
    /// it was yields nothing. A burst of commits while the query re-reads is folded into one
    /// re-read. Cancelling the consuming task (or dropping the sequence) stops the observation;
    /// a failing read ends the sequence with its error.
    ///
    /// - Parameter otherProcesses: How often to look for commits by other connections to the
    ///   file (another process syncing the same store), which this connection's hooks do not
    ///   see; `nil` (the default, for an app whose sync runs in-process) never looks.
    public func observe<Value: Equatable>(_ query: DeviceQuery<Value>, otherProcesses: Duration? = nil) -> AsyncThrowingStream<Value, any Error> {
        let database = self.database
        let schema = self.schema
        return AsyncThrowingStream { continuation in
            // The tables the last read used; a commit outside them is not news.
            let region = Mutex<Set<String>?>(nil)
            let (news, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            let task = Task {
                // Observe before the first read, so that no commit falls between the two.
                let token = await database.addCommitObserver { written in
                    let relevant = region.withLock { tables in tables.map { !$0.isDisjoint(with: written) } ?? true }
                    if relevant { signal.yield() }
                }
                // Another connection's commit moves PRAGMA data_version; what it wrote is unknown.
                let poller = otherProcesses.map { interval in
                    Task {
                        var seen: Int64?
                        while !Task.isCancelled {
                            let version = try? await database.query("PRAGMA data_version").first?.read(0, as: Int64.self)
                            if let version, seen != nil, version != seen { signal.yield() }
                            seen = version ?? seen
                            try? await Task.sleep(for: interval)
                        }
                    }
                }
                defer { poller?.cancel() }
                do {
                    var last: Value?
                    var iterator = news.makeAsyncIterator()
                    repeat {
                        let (value, tables) = try await database.transaction { db in try db.readingTables { db in try query.body(db, schema) } }
                        region.withLock { $0 = tables }
                        if value != last {
                            last = value
                            continuation.yield(value)
                        }
                    } while await iterator.next() != nil && !Task.isCancelled
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Task.isCancelled ? nil : error)
                }
                await database.removeCommitObserver(token)
            }
            continuation.onTermination = { _ in
                task.cancel()
                signal.finish()
            }
        }
    }
}
