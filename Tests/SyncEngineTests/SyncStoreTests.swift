import DemoData
import FieldModel
import FieldRules
import Foundation
import PostgresDriver
import SyncCore
import SyncTesting
import SyncWire
import Testing

@testable import SyncEngine

@Suite("SyncStore")
struct SyncStoreTests {
    struct Setup {
        let pool: PostgresPool
        let store: SyncStore
        let data: DemoDataSet
        let tenant: RecordID
    }

    static func setup(_ name: String) async throws -> Setup {
        let pool = try PostgresPool(.init(connectionString: try await TestPostgres.makeDatabase(name), connectionsMax: 12))
        try await Migrator.migrate(pool)
        let data = DemoGenerator().generate()
        try await data.load(into: pool)
        return Setup(pool: pool, store: SyncStore(pool: pool, domain: FieldSalesDomain()), data: data, tenant: data.tenant!)
    }

    static func id(_ n: UInt64) -> RecordID { RecordID(high: 0x019B_0000_0000_7000 | n << 16, low: 0x8000_0000_0000_0000 | n) }

    /// Before, a tenant's bulk load (the demo set, an import) left PostgreSQL without statistics
    /// until autovacuum came by, a minute or more later. Meanwhile the planner took the tenant's
    /// rows for a few dozen and answered every push's bucket lookup by reading all the tenant's
    /// memberships: 4 ms for 20 rows on the demo tenant, growing with the tenant; a swarm seed
    /// spent 3.4 s of its PostgreSQL time there. A seed now leaves the planner its statistics.
    ///
    /// A push of 100 changes asks for about 200 rows' buckets. With PostgreSQL's default
    /// `random_page_cost` (4, for spinning disks) the planner hashed all the tenant's memberships
    /// for that: 3.8 ms on the demo tenant, 0.8 ms by index. Our clusters run with 1.1
    /// (`PostgresCluster`), as OPERATIONS.md advises for a served database.
    @Test("after a tenant's bulk load, a push's bucket lookup reads its rows by index, not every membership of the tenant", arguments: [20, 200])
    func seededTablesAreAnalyzed(asked: Int) async throws {
        let setup = try await Self.setup("seedstats\(asked)")
        let refs = try await setup.pool.query("SELECT tbl, id::text FROM row_buckets WHERE tenant_id = $1 ORDER BY md5(id::text) LIMIT $2", [setup.tenant.uuidString, asked])
            .map { RecordRef(table: try $0.read(0, as: String.self), record: RecordID(try $0.read(1, as: String.self))!) }
        try #require(refs.count == asked)
        let plan = try await setup.pool.query("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + WorkingSet.membershipsSQL,
                                              WorkingSet.refParameters(refs, tenant: setup.tenant)).map { try $0.read(0, as: String.self) }
        // Every node that reads row_buckets, and how many rows it read in all its loops.
        var read = 0
        for line in plan where line.contains(" on row_buckets") {
            if let rows = Self.actualRows(line) { read = max(read, rows) }
        }
        let members = try await setup.pool.query("SELECT count(*) FROM row_buckets WHERE tenant_id = $1", [setup.tenant.uuidString])[0].read(0, as: Int.self)
        #expect(read <= asked * 5, "the lookup of \(asked) rows read \(read) of the tenant's \(members) memberships:\n\(plan.joined(separator: "\n"))")
    }

    /// `rows=N loops=L` of an `EXPLAIN ANALYZE` line, as N × L.
    static func actualRows(_ line: String) -> Int? {
        guard let actual = line.range(of: "(actual ") else { return nil }
        let tail = line[actual.upperBound...]
        func number(after key: String) -> Int? {
            guard let start = tail.range(of: key) else { return nil }
            return Int(tail[start.upperBound...].prefix { $0.isNumber })
        }
        guard let rows = number(after: "rows="), let loops = number(after: "loops=") else { return nil }
        return rows * loops
    }

    @Test("a phone that registers twice at once (a retry after a timeout) gets its replica both times, never 'registered to another user'")
    func concurrentRegistrations() async throws {
        let setup = try await Self.setup("register-race")
        let user = RecordID(try #require(setup.data["users"]).rows.first { $0[2] == "rep" }![0]!)!
        let other = RecordID(try #require(setup.data["users"]).rows.last { $0[2] == "rep" }![0]!)!
        for round in 0..<60 {
            let installation = RecordID(high: 0x1E, low: UInt64(round))
            let answers = try await withThrowingTaskGroup(of: ReplicaID?.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await setup.store.register(installation: installation, user: user, tenant: setup.tenant, platform: "ios", appVersion: "1.0.0") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0 != nil } && Set(answers).count == 1, "round \(round): \(answers)")
            // Another user still cannot take the installation over.
            #expect(try await setup.store.register(installation: installation, user: other, tenant: setup.tenant, platform: "ios", appVersion: "1.0.0") == nil)
        }
    }

    @Test("a pushed change set merges, reaches the buckets of its rows, and a replay applies nothing twice")
    func pushAndPull() async throws {
        let setup = try await Self.setup("push")
        let customers = try #require(setup.data["customers"])
        let customer = RecordID(customers.rows[0][0]!)!
        let territory = customers.rows[0][customers.columns.firstIndex(of: "territory_id")!]!
        let rep = Version(clock: HLC(milliseconds: 1_796_100_000_000), replica: ReplicaID(21))
        let changeSet = ChangeSet(id: ChangeID(Self.id(1)), changes: [
            Change(id: ChangeID(Self.id(2)), table: "customers", record: customer, operation: .write([FieldWrite("phone", .text("+1-212-555-0100"))]), version: rep),
            Change(id: ChangeID(Self.id(3)), table: "customers", record: customer, operation: .write([FieldWrite("favourite_colour", .text("teal"))]), version: rep),
        ])
        let first = try await setup.store.push(changeSet, batch: Self.id(4), replica: ReplicaID(21), tenant: setup.tenant)
        #expect(first.outcomes.map(\.result) == [.applied, .rejected])
        #expect(first.outcomes[1].reason == "unknown_field")

        // The feed serves a transaction once every older one, anywhere in the cluster, has ended.
        var page = try await setup.store.changes(bucket: "territory:\(territory)", after: 0, limit: 100, tenant: setup.tenant)
        for _ in 0..<500 where page.changeSets.isEmpty {
            try await Task.sleep(for: .milliseconds(10))
            page = try await setup.store.changes(bucket: "territory:\(territory)", after: 0, limit: 100, tenant: setup.tenant)
        }
        #expect(page.changeSets.map(\.id) == [changeSet.id])
        #expect(page.changeSets.first?.changes.map(\.id) == [ChangeID(Self.id(2))], "only the applied change travels")
        let again = try await setup.store.changes(bucket: "territory:\(territory)", after: page.cursor, limit: 100, tenant: setup.tenant)
        #expect(again.changeSets.isEmpty)

        let replay = try await setup.store.push(changeSet, batch: Self.id(4), replica: ReplicaID(21), tenant: setup.tenant)
        #expect(replay.outcomes == first.outcomes)
        #expect(try await setup.pool.query("SELECT count(*) FROM change_log")[0].read(0, as: Int.self) == 1)
        // The snapshot arrives in pages that resume after the last row, each at the first page's watermark.
        var cursor = BucketCursor(bucket: "territory:\(territory)", sequence: 0)
        var rows: [RecordSnapshot] = []
        var watermarks = Set<UInt64>()
        while true {
            let page = try await setup.store.snapshot(bucket: cursor.bucket, cursor: cursor, limit: 100, tenant: setup.tenant)
            rows += page.snapshots
            watermarks.insert(page.cursor)
            guard page.hasMore else { break }
            cursor = BucketCursor(bucket: cursor.bucket, sequence: page.cursor, resume: page.resume)
        }
        #expect(watermarks.count == 1)
        #expect(Set(rows.map(\.ref)).count == rows.count, "no row twice")
        let row = try #require(rows.first { $0.ref.record == customer })
        #expect(row.state.fields["phone"]?.value == .text("+1-212-555-0100"))
        #expect(rows.count > 200, "the territory's customers, visits, orders and the rest")
    }

    /// Edits of customers of one territory, `perPush` change sets of one change each per push,
    /// pushed `pushes` times: one transaction each. Returns the territory's bucket and the change
    /// sets in the order pushed.
    static func territoryEdits(_ setup: Setup, pushes: Int, perPush: Int, from first: UInt64) async throws -> (Bucket, [ChangeSet]) {
        let customers = try #require(setup.data["customers"])
        let column = customers.columns.firstIndex(of: "territory_id")!
        let territory = customers.rows[0][column]!
        let ids = customers.rows.filter { $0[column] == territory }.map { RecordID($0[0]!)! }
        var n = first
        var pushed: [ChangeSet] = []
        for push in 0..<pushes {
            var submissions: [SyncStore.Submission] = []
            for index in 0..<perPush {
                n += 2
                let change = Change(id: ChangeID(Self.id(n + 1)), table: "customers", record: ids[index % ids.count],
                                    operation: .write([FieldWrite("phone", .text("+1-212-555-\(1000 + n)"))]),
                                    version: Version(clock: HLC(milliseconds: 1_796_100_000_000 + n), replica: .server))
                submissions.append(SyncStore.Submission(ChangeSet(id: ChangeID(Self.id(n)), changes: [change]), replica: .server))
            }
            let applied = try await setup.store.push(submissions, batch: Self.id(first + 100_000 + UInt64(push)), tenant: setup.tenant)
            #expect(applied.allSatisfy { $0.outcomes.allSatisfy { $0.result == .applied } })
            pushed += submissions.map(\.changeSet)
        }
        return (Bucket("territory:\(territory)"), pushed)
    }

    /// Every page of `bucket` from `cursor` at `limit`, once the feed has served `expected` change sets.
    static func pages(_ setup: Setup, _ bucket: Bucket, limit: Int, expecting expected: Int) async throws -> [BucketPage] {
        for _ in 0..<500 {
            var pages: [BucketPage] = []
            var cursor: UInt64 = 0
            while true {
                let page = try await setup.store.changes(bucket: bucket, after: cursor, limit: limit, tenant: setup.tenant)
                pages.append(page)
                cursor = page.cursor
                guard page.hasMore else { break }
            }
            if pages.reduce(0, { $0 + $1.changeSets.count }) >= expected { return pages }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the feed never served \(expected) change sets")
        return []
    }

    @Test("a push writes one feed row per bucket, and a pull serves its change sets in order")
    func oneFeedRowPerBucket() async throws {
        let setup = try await Self.setup("feed-rows")
        let (bucket, pushed) = try await Self.territoryEdits(setup, pushes: 1, perPush: 40, from: 1_000)
        let rows = try await setup.pool.query("SELECT kind FROM change_log WHERE tenant_id = $1 AND bucket = $2", [setup.tenant.uuidString, bucket])
        #expect(try rows.map { try $0.read(0, as: Int.self) } == [FeedEntry.packedKind], "one row for the 40 change sets")
        // The rows are LZ4-compressed when PostgreSQL has it (our clusters' do).
        let compression = try await setup.pool.query("SELECT attcompression::text FROM pg_attribute WHERE attrelid = 'change_log'::regclass AND attname = 'change_set'")
        #expect(try compression.first?.read(0, as: String.self) == "l")
        let pages = try await Self.pages(setup, bucket, limit: 1_000, expecting: pushed.count)
        #expect(pages.flatMap(\.changeSets) == pushed)
    }

    @Test("a page holds whole transactions, at most the limit's entries unless one transaction is larger; rows from before revision 28 still read")
    func pagesOfWholeTransactions() async throws {
        let setup = try await Self.setup("feed-pages")
        // A row as servers before revision 28 wrote them: one change set.
        let customers = try #require(setup.data["customers"])
        let column = customers.columns.firstIndex(of: "territory_id")!
        let legacy = ChangeSet(id: ChangeID(Self.id(900)), changes: [Change(id: ChangeID(Self.id(901)), table: "customers", record: RecordID(customers.rows[0][0]!)!,
            operation: .write([FieldWrite("phone", .text("+1-212-555-0900"))]), version: Version(clock: HLC(milliseconds: 1_796_000_000_000), replica: .server))])
        try await setup.pool.query("INSERT INTO change_log (tenant_id, bucket, kind, change_set) VALUES ($1, $2, 0, $3)",
                                   [setup.tenant.uuidString, "territory:\(customers.rows[0][column]!)", BinaryEncoder.encode(legacy)])
        // 70 transactions of 3 (more than one chunk of rows), then one of 12.
        let (bucket, small) = try await Self.territoryEdits(setup, pushes: 70, perPush: 3, from: 2_000)
        let (_, large) = try await Self.territoryEdits(setup, pushes: 1, perPush: 12, from: 9_000)
        let all = [legacy] + small + large
        for limit in [1, 5, 7, 100, 1_000] {
            let pages = try await Self.pages(setup, bucket, limit: limit, expecting: all.count)
            #expect(pages.flatMap(\.changeSets) == all, "limit \(limit): every change set once, in order")
            for page in pages.dropLast() {
                // Each push's change sets are one transaction: a page ends at a push's end.
                let count = page.changeSets.count
                if limit >= 3 && page.changeSets.first?.id != legacy.id && page.changeSets.last?.id != large.last?.id {
                    #expect(count % 3 == 0, "limit \(limit): a page of \(count) change sets cuts a transaction")
                }
                #expect(count <= max(limit, 12), "limit \(limit): a page of \(count)")
            }
        }
    }

    @Test("a rep's writes are judged by ownership at the change's time: kept and flagged when the territory has since moved, refused after")
    func ownershipAtChangeTime() async throws {
        let setup = try await Self.setup("ownership")
        let rep = RecordID(try #require(setup.data["users"]).rows.first { $0[2] == "rep" }![0]!)!
        let handedOver: Int64 = 1_796_200_000_000
        let owner = try #require(try await setup.pool.query("SELECT id::text, territory_id::text FROM territory_owners WHERE user_id = $1", [rep.uuidString]).first)
        let ownership = RecordID(try owner.read(0, as: String.self))!
        let territory = try owner.read(1, as: String.self)
        let server = Version(clock: HLC(milliseconds: UInt64(handedOver)), replica: .server)
        _ = try await setup.store.push(ChangeSet(id: ChangeID(Self.id(20)), changes: [
            Change(id: ChangeID(Self.id(21)), table: "territory_owners", record: ownership, operation: .write([FieldWrite("valid_to", .timestamp(handedOver))]), version: server),
        ]), batch: Self.id(22), replica: .server, tenant: setup.tenant)
        let customers = try #require(setup.data["customers"])
        let customer = RecordID(try #require(customers.rows.first { $0[customers.columns.firstIndex(of: "territory_id")!] == territory })[0]!)!
        let author = SyncStore.Author(role: Role("rep"), user: rep, now: UInt64(handedOver) + 86_400_000)
        func edit(_ n: UInt64, at milliseconds: Int64) -> ChangeSet {
            ChangeSet(id: ChangeID(Self.id(n)), changes: [Change(id: ChangeID(Self.id(n + 1)), table: "customers", record: customer,
                operation: .write([FieldWrite("phone", .text("+1-212-555-01\(n)"))]), version: Version(clock: HLC(milliseconds: UInt64(milliseconds)), replica: ReplicaID(21)))])
        }
        let before = try await setup.store.push(edit(30, at: handedOver - 3_600_000), batch: Self.id(40), replica: ReplicaID(21), author: author, tenant: setup.tenant)
        #expect(before.outcomes.map(\.result) == [.appliedWithException])
        #expect(before.outcomes.first?.findings.map(\.rule) == ["no_longer_owned"])
        let after = try await setup.store.push(edit(32, at: handedOver + 3_600_000), batch: Self.id(41), replica: ReplicaID(21), author: author, tenant: setup.tenant)
        #expect(after.outcomes.map(\.reason) == ["forbidden_record"])
    }

    @Test("a customer moving territory leaves the old bucket's feed as a remove and enters the new one whole")
    func bucketMove() async throws {
        let setup = try await Self.setup("move")
        let customers = try #require(setup.data["customers"])
        let column = customers.columns.firstIndex(of: "territory_id")!
        let row = customers.rows[0]
        let customer = RecordID(row[0]!)!
        let from = row[column]!
        let to = try #require(setup.data["territories"]).rows.map { $0[0]! }.first { $0 != from }!
        let move = ChangeSet(id: ChangeID(Self.id(50)), changes: [Change(id: ChangeID(Self.id(51)), table: "customers", record: customer,
            operation: .write([FieldWrite("territory_id", .id(RecordID(to)!))]), version: Version(clock: HLC(milliseconds: 1_796_300_000_000), replica: .server))])
        _ = try await setup.store.push(move, batch: Self.id(52), replica: .server, tenant: setup.tenant)
        func page(_ bucket: Bucket) async throws -> BucketPage {
            var page = try await setup.store.changes(bucket: bucket, after: 0, limit: 100, tenant: setup.tenant)
            for _ in 0..<500 where page.changeSets.isEmpty && page.removes.isEmpty && page.snapshots.isEmpty {
                try await Task.sleep(for: .milliseconds(10))
                page = try await setup.store.changes(bucket: bucket, after: 0, limit: 100, tenant: setup.tenant)
            }
            return page
        }
        // The customer moves, and with it everything under it: its visits, work orders and assets.
        var moved = [RecordRef(table: "customers", record: customer)]
        for table in ["visits", "work_orders", "assets"] {
            let rows = try #require(setup.data[table])
            let customerColumn = rows.columns.firstIndex(of: "customer_id")!
            moved += rows.rows.filter { $0[customerColumn] == row[0] }.map { RecordRef(table: table, record: RecordID($0[0]!)!) }
        }
        #expect(moved.count > 1, "the demo customer has rows under it")
        let old = try await page("territory:\(from)")
        #expect(Set(old.removes) == Set(moved))
        #expect(old.changeSets.isEmpty, "the old territory does not see the change itself")
        let new = try await page("territory:\(to)")
        #expect(Set(new.snapshots.map(\.ref)) == Set(moved))
        #expect(new.snapshots.first { $0.ref.table == "customers" }?.state.fields["name"] != nil, "the row arrives whole")
        #expect(new.changeSets.map(\.id) == [move.id])
        let stillOld = try await setup.pool.query("SELECT count(*) FROM row_buckets WHERE tenant_id = $1 AND bucket = $2 AND id = ANY($3::uuid[])",
                                                  [setup.tenant.uuidString, "territory:\(from)", "{" + moved.map(\.record.uuidString).joined(separator: ",") + "}"])
        #expect(try stillOld[0].read(0, as: Int64.self) == 0)
    }

    @Test("assigning a work order brings its customer and asset into the technician's bucket; reassigning takes them out")
    func technicianFollowsAssignment() async throws {
        let setup = try await Self.setup("assign")
        let orders = try #require(setup.data["work_orders"])
        let column = { (name: String) in orders.columns.firstIndex(of: name)! }
        let technicians = try #require(setup.data["users"]).rows.filter { $0[2] == "technician" }.map { $0[0]! }
        // An order whose customer the other technician does not serve yet.
        let order = try #require(orders.rows.first { candidate in
            candidate[column("assignee_id")] != nil && candidate[column("asset_id")] != nil && !orders.rows.contains {
                $0[column("customer_id")] == candidate[column("customer_id")] && $0[column("assignee_id")] != nil && $0[column("assignee_id")] != candidate[column("assignee_id")]
            }
        })
        let customer = RecordRef(table: "customers", record: RecordID(order[column("customer_id")]!)!)
        let asset = RecordRef(table: "assets", record: RecordID(order[column("asset_id")]!)!)
        let newcomer = RecordID(try #require(technicians.first { $0 != order[column("assignee_id")] }))!
        let reassign = ChangeSet(id: ChangeID(Self.id(60)), changes: [Change(id: ChangeID(Self.id(61)), table: "work_orders", record: RecordID(order[0]!)!,
            operation: .write([FieldWrite("assignee_id", .id(newcomer))]), version: Version(clock: HLC(milliseconds: 1_796_300_000_000), replica: .server))])
        _ = try await setup.store.push(reassign, batch: Self.id(62), replica: .server, tenant: setup.tenant)
        func feed(_ bucket: Bucket) async throws -> BucketPage {
            for _ in 0..<500 {
                let page = try await setup.store.changes(bucket: bucket, after: 0, limit: 100, tenant: setup.tenant)
                if !page.changeSets.isEmpty || !page.removes.isEmpty || !page.snapshots.isEmpty { return page }
                try await Task.sleep(for: .milliseconds(10))
            }
            return try await setup.store.changes(bucket: bucket, after: 0, limit: 100, tenant: setup.tenant)
        }
        let gaining = try await feed("user:\(newcomer.uuidString)")
        #expect(Set(gaining.snapshots.map(\.ref)).isSuperset(of: [customer, asset]))
        let formerBucket: Bucket = "user:\(order[column("assignee_id")]!)"
        let stillServed = orders.rows.contains { $0[0] != order[0] && $0[column("assignee_id")] == order[column("assignee_id")] && $0[column("customer_id")] == order[column("customer_id")] }
        let losing = try await feed(formerBucket)
        #expect(losing.removes.contains(RecordRef(table: "work_orders", record: RecordID(order[0]!)!)))
        #expect(losing.removes.contains(customer) == !stillServed)
        #expect(losing.removes.contains(asset))
        // The customer's visits and orders do not follow it into a technician's bucket.
        let visits = try await setup.pool.query("SELECT count(*) FROM row_buckets WHERE tenant_id = $1 AND bucket = $2 AND tbl = 'visits'",
                                                [setup.tenant.uuidString, "user:\(newcomer.uuidString)"])
        #expect(try visits[0].read(0, as: Int64.self) == 0)
    }

    @Test("concurrent different values are recorded as conflicts; the forward state wins")
    func conflicts() async throws {
        let setup = try await Self.setup("conflicts")
        let visit = RecordID(try #require(setup.data["visits"]).rows[0][0]!)!
        let seed = Version(clock: HLC(milliseconds: 1_796_000_000_000), replica: .server)
        let cancel = ChangeSet(id: ChangeID(Self.id(10)), changes: [Change(id: ChangeID(Self.id(11)), table: "visits", record: visit,
            operation: .write([FieldWrite("status", .state(StateValue("cancelled")), base: seed)]), version: Version(clock: HLC(milliseconds: 1_796_200_000_000), replica: .server))])
        let complete = ChangeSet(id: ChangeID(Self.id(12)), changes: [Change(id: ChangeID(Self.id(13)), table: "visits", record: visit,
            operation: .write([FieldWrite("status", .state(StateValue("completed")), base: seed)]), version: Version(clock: HLC(milliseconds: 1_796_100_000_000), replica: ReplicaID(21)))])
        _ = try await setup.store.push(cancel, batch: Self.id(14), replica: .server, tenant: setup.tenant)
        let late = try await setup.store.push(complete, batch: Self.id(15), replica: ReplicaID(21), tenant: setup.tenant)
        #expect(late.conflicts.count == 1)
        let stored = try await setup.pool.query("SELECT field, winner_replica, loser_replica FROM conflicts")[0]
        #expect(try stored.read(0, as: String.self) == "status")
        #expect(try stored.read(1, as: Int.self) == 21)
        #expect(try stored.read(2, as: Int.self) == 0)
    }

    @Test("the feed never skips and never repeats, with 8 writers committing out of order and 10,000 changes")
    func exactFeed() async throws {
        let setup = try await Self.setup("feed")
        let writers = 8
        let changeSetsPerWriter = 125
        let changesPerSet = 10
        let store = setup.store
        let tenant = setup.tenant
        let done = ManualWallClock(0)  // 1 once every writer has committed

        // The reader reads until every change set has arrived, or a minute after the writers are
        // done: the feed may lag while any transaction in the cluster (another test's, say) is
        // still open. The grace runs from the writers' end, not the start: on a loaded machine the
        // writers alone took longer than a fixed deadline, and the reader stopped early.
        let expected = writers * changeSetsPerWriter
        async let served: [ChangeID] = {
            var served: [ChangeID] = []
            var cursor: UInt64 = 0
            var writersDoneAt: ContinuousClock.Instant?
            let limit = ContinuousClock.now + .seconds(900)
            while ContinuousClock.now < limit {
                let page = try await store.changes(bucket: "catalog", after: cursor, limit: 50, tenant: tenant)
                served += page.changeSets.map(\.id)
                cursor = page.cursor
                if page.changeSets.isEmpty {
                    if done.now() == 1 {
                        if served.count >= expected { return served }
                        if let writersDoneAt, ContinuousClock.now - writersDoneAt > .seconds(60) { return served }
                        writersDoneAt = writersDoneAt ?? ContinuousClock.now
                    }
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            return served
        }()

        var pushed: [ChangeID] = []
        try await withThrowingTaskGroup(of: [ChangeID].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var random = SplitMix64(seed: UInt64(writer))
                    var ids: [ChangeID] = []
                    for set in 0..<changeSetsPerWriter {
                        let base = UInt64(writer * 1_000_000 + set * 100)
                        let version = Version(clock: HLC(milliseconds: 1_796_300_000_000 + base), replica: ReplicaID(UInt32(100 + writer)))
                        let changes = (0..<changesPerSet).map { index in
                            Change(id: ChangeID(Self.id(base + UInt64(index) + 1)), table: "products", record: Self.id(base + UInt64(index) + 50),
                                   operation: .write([FieldWrite("name", .text("product \(writer)/\(set)/\(index)"))]), version: version)
                        }
                        let changeSet = ChangeSet(id: ChangeID(Self.id(base + 99)), changes: changes)
                        // Hold some transactions open after writing the feed, so commits come out of order.
                        let delay = random.next() % 4 == 0 ? Double(random.next() % 30) / 1000 : 0
                        try await store.pool.transaction { db in
                            _ = try await store.apply(changeSet, batch: Self.id(base + 98), replica: version.replica, tenant: tenant, on: db)
                            if delay > 0 { try await db.query("SELECT pg_sleep($1)", [delay]) }
                        }
                        ids.append(changeSet.id)
                    }
                    return ids
                }
            }
            for try await ids in group { pushed += ids }
        }
        done.set(1)
        let all = try await served
        #expect(all.count == writers * changeSetsPerWriter, "served \(all.count) change sets")
        #expect(Set(all).count == all.count, "nothing served twice")
        let skipped = Set(pushed).subtracting(all)
        #expect(skipped.count == 0, "change sets skipped")
        #expect(writers * changeSetsPerWriter * changesPerSet >= 10_000)
    }
}
