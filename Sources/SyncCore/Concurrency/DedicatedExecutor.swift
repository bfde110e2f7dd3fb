internal import Dispatch

/// A serial executor that runs its jobs on a private Dispatch queue.
///
/// Why: SQLite and libpq calls block their thread. Run on Swift's cooperative pool, a few slow
/// queries would starve every other task on a 2-core machine. An actor that owns a C handle
/// instead returns one of these from `unownedExecutor`, so its blocking calls happen on a queue
/// of their own (Dispatch adds threads for blocked queues) and the actor still serializes access
/// to the handle. This is the approach GRDB takes with its serial queues.
public final class DedicatedExecutor: SerialExecutor {
    private let queue: DispatchQueue

    /// Creates an executor whose jobs run in order on a new serial queue.
    /// - Parameter label: The queue's label, shown in debuggers and crash reports.
    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `job` on this executor's queue after every job enqueued before it.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async {
            job.runSynchronously(on: self.asUnownedSerialExecutor())
        }
    }

    /// This executor as the runtime refers to it.
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Runs blocking `work` on this executor's queue and returns its result, for work that must
    /// happen on the queue before an actor that uses the executor exists (opening a connection).
    public func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(E) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Traps unless the caller runs on this executor's queue.
    public func checkIsolated() {
        dispatchPrecondition(condition: .onQueue(queue))
    }
}
