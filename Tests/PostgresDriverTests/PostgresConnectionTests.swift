import Foundation
@testable import PostgresDriver
import SyncCore
import SyncTesting
import Testing


@Suite("PostgresConnection")
struct PostgresConnectionTests {
    @Test("every bound type reads back as it was written")
    func roundTrips() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("roundtrip"))
        func echo<T: PostgresBindable & PostgresReadable & Equatable>(_ value: T, as type: String) async throws {
            let rows = try await connection.query("SELECT $1::\(type)", [value])
            #expect(try rows[0].read(0, as: T.self) == value, "\(type)")
        }
        for text in ["", "plain", "Straße 5, 上海 🚚", "tab\there\nnewline\\backslash", "'quoted' \"double\""] {
            try await echo(text, as: "text")
        }
        for integer in [0, 1, -1, Int.max, Int.min] { try await echo(integer, as: "bigint") }
        for integer: Int64 in [0, .max, .min] { try await echo(integer, as: "int8") }
        for integer: Int32 in [0, .max, .min] { try await echo(integer, as: "int4") }
        for flag in [true, false] { try await echo(flag, as: "boolean") }
        for real in [0.0, -0.5, 1e300, .pi, .infinity, -.infinity, .leastNonzeroMagnitude] { try await echo(real, as: "float8") }
        for bytes: [UInt8] in [[], [0], [0, 1, 2, 255], Array(repeating: 0xAB, count: 100_000)] {
            try await echo(bytes, as: "bytea")
        }
        let nan = try await connection.query("SELECT $1::float8", [Double.nan])[0].read(0, as: Double.self)
        #expect(nan.isNaN)
        let null = try await connection.query("SELECT $1::text", [String?.none])[0]
        #expect(try null.read(0, as: String?.self) == nil)
        #expect(throws: PostgresError.self) { try null.read(0, as: String.self) }
    }

    @Test("a cell's bytes parse as Swift's initializers parse its text, and anything else is a clear mismatch")
    func cellsParseLikeText() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("cells"))
        let texts = ["0", "-0", "+7", "42", "-42", "2147483647", "-2147483648", "2147483648", "9223372036854775807", "-9223372036854775808",
                     "9223372036854775808", "-9223372036854775809", "99999999999999999999", "", "-", "+", "1 ", " 1", "1.5", "1e3", "0x10", "٣",
                     "t", "f", "true", "false", "T", "yes"]
        let rows = try await connection.query("SELECT t, NULL::text FROM unnest($1::text[]) WITH ORDINALITY AS a(t, n) ORDER BY n", [PostgresArray.literal(texts)])
        for (row, text) in zip(rows, texts) {
            #expect((try? row.read(0, as: Int64.self)) == Int64(text), "\(text)")
            #expect((try? row.read(0, as: Int32.self)) == Int32(text), "\(text)")
            #expect((try? row.read(0, as: Int.self)) == Int(text), "\(text)")
            #expect((try? row.read(0, as: Bool.self)) == ["t": true, "true": true, "f": false, "false": false][text], "\(text)")
            #expect(try row.read(0, as: String.self) == text)
            #expect(row.cells == [text, nil])
            #expect(try row.read(1, as: Int64?.self) == nil)
            #expect(throws: PostgresError.self) { try row.read(1, as: Int64.self) }
        }
        #expect(rows.count == texts.count && PostgresRows.empty.isEmpty)
        // Rows without columns still count.
        #expect(try await connection.query("SELECT FROM generate_series(1, 3)").count == 3)
    }

    @Test("ids and integers as one binary array parameter read back as sent; a value that does not fit goes as text for PostgreSQL to refuse")
    func binaryArrayParameters() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("binparams"))
        let ids = (0..<300).map { _ in RecordID(high: .random(in: 0...UInt64.max), low: .random(in: 0...UInt64.max)) }
        #expect(PostgresArray.uuids(ids) != .text(PostgresArray.literal(ids.map(\.uuidString))))
        let read = try await connection.query("SELECT u::text FROM unnest($1::uuid[]) WITH ORDINALITY AS a(u, n) ORDER BY n", [PostgresArray.uuids(ids)])
        #expect(try read.map { try $0.read(0, as: String.self) } == ids.map { $0.uuidString.lowercased() })
        let integers: [Int64] = [0, -1, .min, .max, 42]
        let back = try await connection.query("SELECT b FROM unnest($1::bigint[]) WITH ORDINALITY AS a(b, n) ORDER BY n", [PostgresArray.bigints(integers)])
        #expect(try back.map { try $0.read(0, as: Int64.self) } == integers)
        #expect(try await connection.query("SELECT cardinality($1::uuid[])", [PostgresArray.uuids([RecordID]())])[0].read(0, as: Int.self) == 0)
        let misfit = PostgresArray.parameter([.uuid(ids[0]), .text("not-an-id")], of: "uuid")
        #expect(misfit == .text("{\(ids[0].uuidString),\"not-an-id\"}"))
        let error = await #expect(throws: PostgresError.self) { try await connection.query("SELECT cardinality($1::uuid[])", [misfit]) }
        #expect(error?.sqlState == "22P02")
    }

    @Test("an array literal carries any text: a list through unnest reads back as written")
    func arrays() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("arrays"))
        let texts = ["", "plain", "NULL", "null", "Straße 5, 上海 🚚", "tab\there\nnewline\\backslash", "'quoted' \"double\"", "{braces},comma", " padded "]
        let rows = try await connection.query("SELECT t FROM unnest($1::text[]) WITH ORDINALITY AS a(t, n) ORDER BY n", [PostgresArray.literal(texts)])
        #expect(try rows.map { try $0.read(0, as: String?.self) } == texts)
        #expect(try await connection.query("SELECT cardinality($1::text[])", [PostgresArray.literal([String]())])[0].read(0, as: Int.self) == 0)
    }

    @Test("a typed batch insert is one statement for any number of rows: bytes, text and NULL arrive as written, in order")
    func typedInsert() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("typedinsert"))
        try await connection.execute("CREATE TABLE t (seq bigserial PRIMARY KEY, id uuid, name text, photo bytea, n integer)")
        let columns = [(name: "id", type: "uuid"), (name: "name", type: "text"), (name: "photo", type: "bytea"), (name: "n", type: "integer")]
        var rows: [[PostgresValue]] = (0..<300).map { [.text(UUID().uuidString), .text("row \($0)"), .bytes([UInt8(truncatingIfNeeded: $0), 0, 92, 34]), .text(String($0))] }
        rows.append([.null, .text("\\ \" {} , NULL"), .bytes([]), .null])
        rows.append([.null, .null, .null, .text("-1")])
        var batch = PostgresBatch()
        batch.insert(into: "t", columns: columns, rows: rows)
        var two = PostgresBatch()
        two.insert(into: "t", columns: columns, rows: Array(rows.prefix(2)))
        #expect(batch.statements.count == 1 && batch.statements[0].sql == two.statements[0].sql, "the same text for any number of rows")
        try await connection.run(batch)
        let read = try await connection.query("SELECT name, photo, n FROM t ORDER BY seq")
        #expect(read.count == rows.count)
        #expect(try read[7].read(0, as: String.self) == "row 7" && read[7].read(1, as: [UInt8].self) == [7, 0, 92, 34] && read[7].read(2, as: Int.self) == 7)
        #expect(try read.prefix(300).map { try $0.read(2, as: Int.self) } == Array(0..<300), "inserted in order")
        #expect(try read[300].read(0, as: String.self) == "\\ \" {} , NULL" && read[300].read(1, as: [UInt8].self) == [] && read[300].read(2, as: Int?.self) == nil)
        #expect(try read[301].read(0, as: String?.self) == nil && read[301].read(1, as: [UInt8]?.self) == nil)
    }

    @Test("each column of a typed insert reads back as written in every element type, binary or not, extremes and NULL included")
    func typedInsertTypes() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("typedtypes"))
        try await connection.execute("""
            CREATE TABLE t (seq bigserial PRIMARY KEY, f boolean, s smallint, i integer, b bigint, u uuid, t text, y bytea, m numeric, d double precision)
            """)
        let columns = [(name: "f", type: "boolean"), (name: "s", type: "smallint"), (name: "i", type: "integer"), (name: "b", type: "bigint"),
                       (name: "u", type: "uuid"), (name: "t", type: "text"), (name: "y", type: "bytea"), (name: "m", type: "numeric"),
                       (name: "d", type: "double precision")]
        let id = "01A22C1C-A8D7-7A63-9613-EC18B21478F2"
        let rows: [[PostgresValue]] = [
            [.text("t"), .text("-32768"), .text("-2147483648"), .text("-9223372036854775808"), .text(id), .text("Straße, 上海 🚚 \\ \""), .bytes([0, 255]),
             .text("12345678901234567890.5"), .text("-0.25")],
            [.text("false"), .text("32767"), .text("2147483647"), .text("9223372036854775807"), .text(id.lowercased()), .text(""), .bytes([]), .text("0"), .text("1e300")],
            [.null, .null, .null, .null, .null, .null, .null, .null, .null],
            // Integers and ids given as values, not text: in binary, as their text in a text column.
            [.text("t"), .integer(-32768), .integer(2147483647), .integer(.min), .uuid(RecordID(id)!), .integer(42), .bytes([1]), .integer(7), .integer(-3)],
        ]
        var batch = PostgresBatch()
        batch.insert(into: "t", columns: columns, rows: rows)
        #expect(batch.statements[0].values.filter { if case .bytes = $0 { true } else { false } }.count == 7,
                "the seven types with a binary form travel as binary arrays; numeric and double precision as text")
        try await connection.run(batch)
        let read = try await connection.query("SELECT f::text, s::text, i::text, b::text, u::text, t, encode(y, 'hex'), m::text, d::text FROM t ORDER BY seq")
        #expect(read[0].cells == ["true", "-32768", "-2147483648", "-9223372036854775808", id.lowercased(), "Straße, 上海 🚚 \\ \"", "00ff",
                                             "12345678901234567890.5", "-0.25"])
        #expect(read[1].cells == ["false", "32767", "2147483647", "9223372036854775807", id.lowercased(), "", "", "0", "1e+300"])
        #expect(read[2].cells == Array(repeating: nil, count: 9))
        #expect(read[3].cells == ["true", "-32768", "2147483647", "-9223372036854775808", id.lowercased(), "42", "01", "7", "-3"])
        // A value that is not of its column's type goes as text, and PostgreSQL says what is wrong.
        let misfits: [(column: (name: String, type: String), value: PostgresValue)] = [
            (("s", "smallint"), .text("32768")), (("b", "bigint"), .text("1.5")), (("u", "uuid"), .text("not-an-id")),
            (("s", "smallint"), .integer(32768)), (("i", "integer"), .integer(-2147483649)), (("u", "uuid"), .integer(1)),
        ]
        for (column, value) in misfits {
            var bad = PostgresBatch()
            bad.insert(into: "t", columns: [column], rows: [[value]])
            #expect(bad.statements[0].values.allSatisfy { if case .text = $0 { true } else { false } }, "\(column.type)")
            let error = await #expect(throws: PostgresError.self) { try await connection.run(bad) }
            #expect(["22003", "22P02"].contains(error?.sqlState ?? ""), "\(column.type): \(error?.sqlState ?? "no error")")
        }
    }

    @Test("a transaction that throws leaves nothing behind; nested ones are savepoints")
    func transactions() async throws {
        struct Boom: Error {}
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("tx"))
        try await connection.execute("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)")
        await #expect(throws: Boom.self) {
            try await connection.transaction { db in
                try await db.query("INSERT INTO t VALUES (1, 'a')")
                throw Boom()
            }
        }
        let error = await #expect(throws: PostgresError.self) {
            try await connection.transaction { db in
                try await db.query("INSERT INTO t VALUES (2, 'b')")
                try await db.query("INSERT INTO t VALUES (2, 'c')")  // duplicate key
            }
        }
        #expect(error?.code == .sql)
        #expect(error?.sqlState == "23505")
        #expect(error?.constraint == "t_pkey")
        try await connection.transaction { db in
            try await db.query("INSERT INTO t VALUES (3, 'outer')")
            do {
                try await db.transaction { inner in
                    try await inner.query("INSERT INTO t VALUES (4, 'inner')")
                    throw Boom()
                }
            } catch is Boom {}
        }
        let ids = try await connection.query("SELECT id FROM t ORDER BY id").map { try $0.read(0, as: Int.self) }
        #expect(ids == [3])
        #expect(await connection.isReusable)
    }

    @Test("a pipelined batch runs in order in one round trip; a failing statement stops it, and the connection stays usable")
    func pipelines() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("pipeline"))
        try await connection.execute("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)")
        var batch = PostgresBatch()
        batch.insert(into: "t", columns: [("id", "int"), ("v", "text")], rows: (1...3).map { [.text(String($0)), .text("v\($0)")] })
        batch.add("UPDATE t SET v = v || '!' WHERE id = $1", [2])
        batch.add("SELECT count(*) FROM t WHERE v LIKE $1", ["%!"])
        let trips = await connection.roundTripsMade
        let answers = try await connection.run(batch)
        #expect(await connection.roundTripsMade - trips == 1, "one round trip for three statements")
        #expect(answers.count == 3)
        #expect(try answers[2][0].read(0, as: Int64.self) == 1, "the update ran before the select, in order")
        // On its second run a statement of a pipeline is prepared, as outside one, and answers the same.
        var again = PostgresBatch()
        again.add("UPDATE t SET v = v || '!' WHERE id = $1", [3])
        again.add("SELECT count(*) FROM t WHERE v LIKE $1", ["%!"])
        let second = try await connection.run(again)
        #expect(second.count == 2)
        #expect(try second[1][0].read(0, as: Int64.self) == 2)
        #expect(try await connection.query("SELECT count(*) FROM pg_prepared_statements")[0].read(0, as: Int64.self) == 2)
        // Inside a transaction, a failing statement fails the batch and the transaction.
        var failing = PostgresBatch()
        failing.add("INSERT INTO t (id, v) VALUES ($1, $2)", [10, "ten"])
        failing.add("INSERT INTO t (id, v) VALUES ($1, $2)", [1, "duplicate"])
        failing.add("INSERT INTO t (id, v) VALUES ($1, $2)", [11, "eleven"])
        let failed = failing
        await #expect(throws: PostgresError.self) {
            try await connection.transaction { db in try await db.run(failed) }
        }
        #expect(try await connection.query("SELECT count(*) FROM t")[0].read(0, as: Int64.self) == 3, "nothing of the failed batch stayed")
        #expect(await connection.isReusable)
        // Outside a transaction, the batch is all or nothing too (one implicit transaction).
        await #expect(throws: PostgresError.self) { try await connection.run(failed) }
        #expect(try await connection.query("SELECT count(*) FROM t")[0].read(0, as: Int64.self) == 3)
        // A NUL in a parameter is refused before anything is sent.
        var nul = PostgresBatch()
        nul.add("INSERT INTO t (id, v) VALUES ($1, $2)", [20, "a"])
        nul.add("INSERT INTO t (id, v) VALUES ($1, $2)", [21, "b\u{0}c"])
        let refused = nul
        await #expect(throws: PostgresError.self) { try await connection.run(refused) }
        #expect(try await connection.query("SELECT count(*) FROM t")[0].read(0, as: Int64.self) == 3)
        #expect(await connection.isReusable)
    }

    @Test("SQL errors carry the SQLSTATE and never the values")
    func errorsHideValues() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("errors"))
        let bad = await #expect(throws: PostgresError.self) { try await connection.query("SELECT $1::int", ["secret-value"]) }
        #expect(bad?.sqlState == "22P02")
        #expect(bad?.description.contains("secret") == false)
        #expect(bad?.serverMessage?.contains("secret") == true)
        let missing = await #expect(throws: PostgresError.self) { try await connection.query("SELECT * FROM no_such_table") }
        #expect(missing?.sqlState == "42P01")
        #expect(missing?.description.contains("no_such_table") == true)
    }

    @Test("COPY loads many rows, escaping what the text format needs")
    func copy() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("copy"))
        try await connection.execute("CREATE TABLE c (id int, name text, photo bytea)")
        let awkward = "tab\tnewline\nreturn\rbackslash\\N end"
        var rows: [[PostgresValue]] = (0..<50_000).map { [.text(String($0)), .text("row \($0)"), .null] }
        rows.append([.text("50000"), .text(awkward), .bytes([0, 9, 10, 92, 255])])
        rows.append([.text("50001"), .null, .bytes([])])
        let copied = try await connection.copy(into: "c", columns: ["id", "name", "photo"], rows: rows)
        #expect(copied == 50_002)
        let row = try await connection.query("SELECT name, photo FROM c WHERE id = 50000")[0]
        #expect(try row.read(0, as: String.self) == awkward)
        #expect(try row.read(1, as: [UInt8].self) == [0, 9, 10, 92, 255])
        let empty = try await connection.query("SELECT name, photo FROM c WHERE id = 50001")[0]
        #expect(try empty.read(0, as: String?.self) == nil)
        #expect(try empty.read(1, as: [UInt8].self) == [])
        // A row the table refuses fails the whole copy and leaves the connection usable.
        await #expect(throws: PostgresError.self) {
            try await connection.copy(into: "c", columns: ["id", "name", "photo"], rows: [[.text("not a number"), .null, .null]])
        }
        #expect(try await connection.query("SELECT count(*) FROM c")[0].read(0, as: Int.self) == 50_002)
        #expect(await connection.isReusable)
    }

    @Test("cancelling the awaiting task stops a running statement")
    func cancellation() async throws {
        let connection = try await PostgresConnection.connect(try await TestPostgres.makeDatabase("cancel"))
        let started = ContinuousClock.now
        // Ten minutes of sleep against five of patience: without cancellation it cannot pass, and a
        // loaded machine cannot fail it.
        let task = Task { try await connection.query("SELECT pg_sleep(600)") }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let error = await #expect(throws: PostgresError.self) { try await task.value }
        #expect(error?.code == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(300))
        #expect(try await connection.query("SELECT 1")[0].read(0, as: Int.self) == 1)
    }

    @Test("a bad connection string and a refused connection give clear errors")
    func connectionErrors() async throws {
        for bad in ["postgresql://host:notaport/db?x", "host=/tmp user", "postgres://[::1"] {
            let error = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(bad) }
            #expect(error?.code == .badConnectionString, "\(bad)")
        }
        #expect(throws: PostgresError.self) { try PostgresPool(.init(connectionString: "user")) }
        let refused = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect("host=/nonexistent-fieldsync-dir user=x dbname=y")
        }
        #expect(refused?.code == .connectionRefused)
        let tcp = await #expect(throws: PostgresError.self) {
            try await PostgresConnection.connect("postgresql://x@127.0.0.1:1/db")
        }
        #expect(tcp?.code == .connectionRefused)
    }
}

@Suite("PostgresPool")
struct PostgresPoolTests {
    @Test("the pool replaces a backend that was terminated")
    func survivesTerminatedBackend() async throws {
        let url = try await TestPostgres.makeDatabase("pool")
        let pool = try PostgresPool(.init(connectionString: url, connectionsMax: 1))
        let victim = try await pool.query("SELECT pg_backend_pid()")[0].read(0, as: Int32.self)
        let admin = try await PostgresConnection.connect(url)
        try await admin.query("SELECT pg_terminate_backend($1)", [victim])
        // Wait until the backend process is gone (it leaves pg_stat_activity a little before it
        // exits and its socket closes). The cluster runs on this machine, so /proc shows it.
        while FileManager.default.fileExists(atPath: "/proc/\(victim)") {
            try await Task.sleep(for: .milliseconds(20))
        }
        let replacement = try await pool.query("SELECT pg_backend_pid()")[0].read(0, as: Int32.self)
        #expect(replacement != victim)
        #expect(await pool.openConnections == 1)
    }

    @Test("a statement on a terminated backend fails as connection_lost, and the pool recovers")
    func lostMidStatement() async throws {
        let url = try await TestPostgres.makeDatabase("lost")
        let pool = try PostgresPool(.init(connectionString: url, connectionsMax: 1))
        let admin = try await PostgresConnection.connect(url)
        let sleeper = Task { try await pool.query("SELECT pg_sleep(30)") }
        var victim: Int32?
        while victim == nil {
            try await Task.sleep(for: .milliseconds(50))
            victim = try await admin.query("SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND datname = current_database()").first?.read(0, as: Int32.self)
        }
        try await admin.query("SELECT pg_terminate_backend($1)", [victim!])
        let error = await #expect(throws: PostgresError.self) { try await sleeper.value }
        #expect(error?.code == .connectionLost)
        #expect(try await pool.query("SELECT 42")[0].read(0, as: Int.self) == 42)
    }

    @Test("callers beyond the limit wait their turn; the limit is never passed")
    func limit() async throws {
        let url = try await TestPostgres.makeDatabase("limit")
        let pool = try PostgresPool(.init(connectionString: url, connectionsMax: 3))
        let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<20 {
                group.addTask { try await pool.query("SELECT pg_backend_pid() FROM pg_sleep(0.05)")[0].read(0, as: Int32.self) }
            }
            return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
        }
        #expect(pids.count <= 3)
        #expect(await pool.openConnections <= 3)
        await pool.close()
        let closed = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(closed?.code == .poolClosed)
    }

    @Test("a listener the pool made stops when the pool closes, so a server that shuts down does not keep reconnecting to a stopped database")
    func listenersStopWithThePool() async throws {
        let url = try await TestPostgres.makeDatabase("poollisten")
        let pool = try PostgresPool(.init(connectionString: url))
        let listener = try pool.listen(channel: "fieldsync_close")
        let admin = try await PostgresConnection.connect(url)
        func listening() async throws -> Int64 {
            try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fieldsync-listen' AND datname = current_database()")[0]
                .read(0, as: Int64.self)
        }
        // Wait until the listener's connection is up.
        let deadline = ContinuousClock.now + .seconds(10)
        while try await listening() == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        await pool.close()
        // The stream ends on its own once the pool is closed (the listener looks every fifth of a
        // second). The minute guards against a hang on a loaded machine; it measures nothing.
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in listener.notifications {}
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(60))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended, "the listener stopped with the pool")
        var open: Int64 = 1
        let patience = ContinuousClock.now + .seconds(60)
        while open > 0, ContinuousClock.now < patience {
            open = try await listening()
            if open > 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(open == 0, "the listener's connection is closed")
        #expect(throws: PostgresError.self) { try pool.listen(channel: "fieldsync_close") }
    }
}
