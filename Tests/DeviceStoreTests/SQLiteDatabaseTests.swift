import Foundation
import Testing

@testable import DeviceStore

/// A fresh database file in its own temporary directory, removed when the test ends.
func withTemporaryDatabase<T>(_ body: (SQLiteDatabase, String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-sqlite-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("store.sqlite").path
    let database = try SQLiteDatabase(path: path)
    return try await body(database, path)
}

@Suite("SQLiteDatabase")
struct SQLiteDatabaseTests {
    @Test("opens in WAL mode with foreign keys on")
    func walMode() async throws {
        try await withTemporaryDatabase { database, _ in
            let mode = try await database.query("PRAGMA journal_mode")[0].read(0, as: String.self)
            #expect(mode == "wal")
            let foreignKeys = try await database.query("PRAGMA foreign_keys")[0].read(0, as: Int.self)
            #expect(foreignKeys == 1)
        }
    }

    @Test("every bound type reads back as it was written", arguments: [
        SQLiteValue.null, .integer(0), .integer(.max), .integer(.min), .integer(-1),
        .real(0.5), .real(-1e300), .real(.pi),
        .text(""), .text("Straße 5, 上海 🚚"), .text("nul\u{0}inside"),
        .blob([]), .blob([0, 1, 2, 255]), .blob(Array(repeating: 7, count: 100_000)),
    ])
    func roundTrip(value: SQLiteValue) async throws {
        try await withTemporaryDatabase { database, _ in
            try await database.execute("CREATE TABLE t (v)")
            try await database.run("INSERT INTO t (v) VALUES (?)", [value])
            let read = try await database.query("SELECT v FROM t")[0].read(0, as: SQLiteValue.self)
            #expect(read == value)
        }
    }

    @Test("typed reads of Swift values, and a clear error for the wrong type")
    func typedReads() async throws {
        try await withTemporaryDatabase { database, _ in
            try await database.execute("CREATE TABLE t (i INTEGER, b INTEGER, d REAL, s TEXT, x BLOB, n TEXT)")
            let bytes: [UInt8] = [9, 8, 7]
            try await database.run("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", [42, true, 2.25, "hello", bytes, String?.none])
            let row = try await database.query("SELECT * FROM t")[0]
            #expect(try row.read("i", as: Int.self) == 42)
            #expect(try row.read("b", as: Bool.self) == true)
            #expect(try row.read("d", as: Double.self) == 2.25)
            #expect(try row.read("s", as: String.self) == "hello")
            #expect(try row.read("x", as: [UInt8].self) == bytes)
            #expect(try row.read("n", as: String?.self) == nil)
            let error = #expect(throws: SQLiteError.self) { try row.read("s", as: Int.self) }
            #expect(error?.code == .typeMismatch)
            #expect(error?.description.contains("hello") == false)
            #expect(throws: SQLiteError.self) { try row.read("n", as: String.self) }
        }
    }

    @Test("a transaction that throws leaves nothing behind")
    func rollback() async throws {
        struct Boom: Error {}
        try await withTemporaryDatabase { database, _ in
            try await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            await #expect(throws: Boom.self) {
                try await database.transaction { db in
                    try db.run("INSERT INTO t (v) VALUES ('a')")
                    try db.run("INSERT INTO t (v) VALUES ('b')")
                    throw Boom()
                }
            }
            // A constraint failure midway rolls back the earlier insert too.
            await #expect(throws: SQLiteError.self) {
                try await database.transaction { db in
                    try db.run("INSERT INTO t (v) VALUES ('c')")
                    try db.run("INSERT INTO t (v) VALUES (NULL)")
                }
            }
            #expect(try await database.query("SELECT count(*) FROM t")[0].read(0, as: Int.self) == 0)
            #expect(await database.isInTransaction == false)
        }
    }

    @Test("a nested transaction is a savepoint: an inner failure keeps the outer work")
    func savepoints() async throws {
        struct Boom: Error {}
        try await withTemporaryDatabase { database, _ in
            try await database.execute("CREATE TABLE t (v TEXT)")
            try await database.transaction { db in
                try db.run("INSERT INTO t VALUES ('outer')")
                do {
                    try db.inTransaction { inner in
                        try inner.run("INSERT INTO t VALUES ('inner')")
                        throw Boom()
                    }
                } catch is Boom {}
                try db.inTransaction { inner in try inner.run("INSERT INTO t VALUES ('second')") }
            }
            let values = try await database.query("SELECT v FROM t ORDER BY rowid").map { try $0.read(0, as: String.self) }
            #expect(values == ["outer", "second"])
        }
    }

    @Test("a constraint violation names the constraint, not the value")
    func constraintError() async throws {
        try await withTemporaryDatabase { database, _ in
            try await database.execute("CREATE TABLE customer (id TEXT PRIMARY KEY)")
            try await database.run("INSERT INTO customer VALUES (?)", ["secret-customer-id"])
            let error = await #expect(throws: SQLiteError.self) {
                try await database.run("INSERT INTO customer VALUES (?)", ["secret-customer-id"])
            }
            #expect(error?.code == .constraint)
            #expect(error?.description.contains("customer.id") == true)
            #expect(error?.description.contains("secret") == false)
        }
    }

    @Test("cancelling the awaiting task interrupts a long statement and rolls back")
    func cancellation() async throws {
        try await withTemporaryDatabase { database, _ in
            try await database.execute("CREATE TABLE t (v INTEGER)")
            let task = Task {
                try await database.transaction { db in
                    try db.run("INSERT INTO t VALUES (1)")
                    // Counts to a billion: minutes of work unless interrupted.
                    _ = try db.query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c")
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let error = await #expect(throws: SQLiteError.self) { try await task.value }
            #expect(error?.code == .cancelled)
            #expect(try await database.query("SELECT count(*) FROM t")[0].read(0, as: Int.self) == 0)
        }
    }

    @Test("a cancel that lands between two statements still stops the next one")
    func cancellationBetweenStatements() async throws {
        try await withTemporaryDatabase { database, _ in
            try await database.execute("CREATE TABLE t (v INTEGER)")
            let task = Task {
                try await database.transaction { db in
                    try db.run("INSERT INTO t VALUES (1)")
                    Thread.sleep(forTimeInterval: 0.3)  // no statement runs: sqlite3_interrupt finds nothing
                    _ = try db.query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c")
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let error = await #expect(throws: SQLiteError.self) { try await task.value }
            #expect(error?.code == .cancelled)
            #expect(try await database.query("SELECT count(*) FROM t")[0].read(0, as: Int.self) == 0)
        }
    }

    @Test("a file that is not a database gives a clear error")
    func notADatabase() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-notdb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SQLiteError.self) { try SQLiteDatabase(path: path) }
        #expect(error?.code == .corrupt)
        #expect(throws: SQLiteError.self) { try SQLiteDatabase(path: "/nonexistent-dir/x/store.sqlite") }
    }

    @Test("a second connection waits for the writer instead of failing at once")
    func busyHandling() async throws {
        try await withTemporaryDatabase { first, path in
            try await first.execute("CREATE TABLE t (v INTEGER)")
            let second = try SQLiteDatabase(path: path)
            // The first holds the write lock for a moment; the second's insert waits for it.
            async let holding: Void = first.transaction { db in
                try db.run("INSERT INTO t VALUES (1)")
                Thread.sleep(forTimeInterval: 0.3)
            }
            try await Task.sleep(for: .milliseconds(50))
            try await second.run("INSERT INTO t VALUES (2)")
            try await holding
            #expect(try await second.query("SELECT count(*) FROM t")[0].read(0, as: Int.self) == 2)
        }
    }

    /// A commit that fills the write-ahead log past its threshold used to copy the log into the
    /// database file itself, and fsync it, before it returned: a phone's sync or a rep's tap waited
    /// 10–20 ms for it now and then (`round_trip_10_p99`). The writer's connection now leaves that
    /// to a background connection, and the log still stays bounded.
    @Test("the writer never checkpoints: a background connection does, and the log stays bounded")
    func backgroundCheckpoints() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        var options = SQLiteDatabase.Options()
        options.checkpointPages = 16
        let db = try SQLiteDatabase(path: path, options: options)
        // The connection's own automatic checkpoint is off.
        #expect(try await db.query("PRAGMA wal_autocheckpoint")[0].read(0, as: Int.self) == 0)
        try await db.execute("CREATE TABLE t (v BLOB)")
        let pageSize = try await db.query("PRAGMA page_size")[0].read(0, as: Int.self)
        // A log cut back to the threshold's frames: pages of the database's size, and their headers.
        #expect(try await db.query("PRAGMA journal_size_limit")[0].read(0, as: Int.self) == 16 * (pageSize + 24))
        for _ in 0..<200 {
            try await db.run("INSERT INTO t VALUES (randomblob(?))", [pageSize * 3])
        }
        // The background connection catches up.
        let deadline = ContinuousClock.now + .seconds(10)
        while db.checkpointsInBackground == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(db.checkpointsInBackground > 0)
        // 200 commits of 3-4 pages each: without checkpoints the log would hold 700 pages or more.
        // Commits in a tight loop outrun the background copy, so the log grows until the writer
        // checkpoints itself at `checkpointLagMax` times the threshold (a little more when the
        // background checkpoint holds the lock at that moment).
        let logPages = (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0) / pageSize
        #expect(logPages <= 2 * 16 * SQLiteDatabase.checkpointLagMax, "the log holds \(logPages) pages")
        #expect(try await db.query("SELECT count(*) FROM t")[0].read(0, as: Int.self) == 200)
        #expect(try await db.query("PRAGMA integrity_check")[0].read(0, as: String.self) == "ok")
    }
}
