public import SyncEngine
import FieldModel
import PostgresDriver
public import SyncCore
import SyncWire

/// Managers' approvals and the office's review of what the rules flagged, refused or found in conflict.
extension SyncStore {
    // MARK: - Managers

    /// A user in a manager's subtree.
    public struct TeamMember: Sendable, Hashable {
        /// The user, their role and name, and their manager.
        public var user: RecordID, role: String, name: String, manager: RecordID?
    }

    /// The users under `manager`, at any depth (an admin sees everyone).
    public func team(of office: OfficeUser) async throws -> [TeamMember] {
        let rows = try await pool.query("""
            WITH RECURSIVE subtree(id) AS (
                SELECT id FROM users WHERE tenant_id = $1 AND (manager_id = $2 OR $3) AND NOT _deleted
                UNION SELECT u.id FROM users u JOIN subtree s ON u.manager_id = s.id WHERE u.tenant_id = $1 AND NOT u._deleted)
            SELECT u.id::text, u.role, u.name, u.manager_id::text FROM users u JOIN subtree s ON s.id = u.id WHERE u.tenant_id = $1 ORDER BY u.name, u.id
            """, [office.tenant.uuidString, office.user.uuidString, office.role == .admin || office.role == .dispatcher])
        return try rows.map { TeamMember(user: RecordID(try $0.read(0, as: String.self))!, role: try $0.read(1, as: String?.self) ?? "",
                                         name: try $0.read(2, as: String?.self) ?? "", manager: try $0.read(3, as: String?.self).flatMap { RecordID($0) }) }
    }

    /// Checks that `user` is in the office user's subtree (admins and dispatchers see everyone).
    func requireInTeam(_ user: RecordID?, of office: OfficeUser) async throws {
        guard office.role == .manager else { return }
        guard let user, try await team(of: office).contains(where: { $0.user == user }) else {
            throw OfficeError(.forbidden, "the record belongs to someone outside your team")
        }
    }

    /// A manager's decision on an order waiting for approval or held for credit.
    public enum OrderDecision: String, Sendable, CaseIterable {
        /// Approve a discount over policy: pending_approval → confirmed.
        case approve
        /// Reject it: pending_approval → rejected (the rep may edit and submit again).
        case reject
        /// Release a credit hold: credit_hold → confirmed.
        case release
    }

    /// Approves, rejects or releases an order of the manager's team, with an optional comment
    /// (kept in the audit). A confirmed order reserves its stock.
    public func decide(_ decision: OrderDecision, order: RecordID, comment: String?, by office: OfficeUser) async throws {
        guard office.role == .manager || office.role == .admin else { throw OfficeError(.forbidden, "only a manager approves orders") }
        let state = try await record("sales_orders", order, tenant: office.tenant)
        try await requireInTeam(state.id("created_by"), of: office)
        let status = state.state()?.name ?? ""
        var fields: [(String, FieldValue)]
        switch decision {
        case .approve, .reject:
            guard status == "pending_approval" else { throw OfficeError(.invalidState, "the order is \(status); only an order pending approval is approved or rejected") }
            let target = decision == .approve ? "confirmed" : "rejected"
            fields = [("status", try move(state, Lifecycles.salesOrder, to: target, by: office.role, what: "order")),
                      ("approval_state", .text(decision == .approve ? "approved" : "rejected"))]
        case .release:
            guard status == "credit_hold" else { throw OfficeError(.invalidState, "the order is \(status); only an order on credit hold is released") }
            fields = [("status", try move(state, Lifecycles.salesOrder, to: "confirmed", by: office.role, what: "order"))]
        }
        try await edit([OfficeEdit("sales_orders", order, fields)], by: office, tenant: office.tenant)
        try await audit(table: "sales_orders", record: order, rule: .review, message: "\(decision.rawValue)d by \(office.role)" + (comment.map { ": \($0)" } ?? ""), by: office)
    }

    /// Adds a manager's comment under a contact record; returns the comment's id.
    public func comment(on contactRecord: RecordID, body: String, by office: OfficeUser) async throws -> RecordID {
        guard office.role == .manager || office.role == .admin else { throw OfficeError(.forbidden, "only a manager comments on contact records") }
        guard !body.allSatisfy(\.isWhitespace) else { throw OfficeError(.invalid, "a comment needs a body") }
        let record = try await self.record("contact_records", contactRecord, tenant: office.tenant)
        try await requireInTeam(record.id("author_id"), of: office)
        let id = newID()
        try await edit([OfficeEdit("manager_comments", id, [("contact_record_id", .id(contactRecord)), ("author_id", .id(office.user)), ("body", .text(body))])],
                       by: office, tenant: office.tenant)
        return id
    }

    /// Records an office decision in the audit.
    func audit(table: String, record: RecordID, rule: RuleFinding.Rule, message: String, by office: OfficeUser) async throws {
        try await pool.query("""
            INSERT INTO decisions (tenant_id, tbl, record, rule, result, message, author_id, author_role, replica, server_time)
            VALUES ($1, $2, $3, $4, 'applied', $5, $6, $7, 0, $8)
            """, [office.tenant.uuidString, table, record.uuidString, rule.name, message, office.user.uuidString, office.role.name, Int64(clock.milliseconds)])
    }

    // MARK: - Review

    /// Something waiting for the office: a flagged change, a refused (quarantined) change, or a conflict.
    public struct ReviewItem: Sendable, Hashable {
        /// `decision:<n>` or `conflict:<n>`.
        public var id: String
        /// `exception`, `rejection` or `conflict`.
        public var kind: String
        /// The record.
        public var table: String, record: RecordID
        /// The rule that fired, or the field in conflict.
        public var rule: String
        /// What happened.
        public var message: String
        /// Who wrote the change, and when (device time), and when it arrived (server time); in ms.
        public var author: RecordID?, deviceTime: Int64?, serverTime: Int64?
        /// `open`, `accepted` or `overridden`.
        public var review: String
        /// The reviewer's comment.
        public var comment: String?
        /// For a refused change: the change as sent and the server's value when it was refused.
        public var change: Change?, serverState: RecordState?
        /// For a conflict: the winning and losing values.
        public var winner: FieldState?, loser: FieldState?
        /// The role of the change's author, as it was when the change arrived.
        public var authorRole: Role?
    }

    /// What a review list keeps.
    public struct ReviewFilter: Sendable, Hashable {
        /// Only the items still open (else resolved ones too).
        public var openOnly: Bool
        /// Only items of this kind: `exception`, `rejection` or `conflict`.
        public var kind: String?
        /// Only items on this table's records.
        public var table: String?

        /// The kinds of review item.
        public static let kinds = ["exception", "rejection", "conflict"]

        /// A filter: open items of every kind and table by default.
        public init(openOnly: Bool = true, kind: String? = nil, table: String? = nil) {
            (self.openOnly, self.kind, self.table) = (openOnly, kind, table)
        }
    }

    /// The items to review matching `filter`: flagged and refused changes oldest first, then
    /// conflicts oldest first, `limit` at a time after the cursor `after` (the last item's id).
    /// A manager sees the changes their team wrote and the conflicts on their team's records
    /// (visits, work orders, orders and contact records they hold, customers of the territories
    /// they own); a dispatcher with territories the items on records of their customers.
    ///
    /// - Throws: ``OfficeError/Code/invalid`` for an unknown kind or table, a limit out of
    ///   1…``listPageMax``, or a cursor no page gave.
    public func reviews(_ filter: ReviewFilter = ReviewFilter(), limit: Int = 100, after cursor: String? = nil, by office: OfficeUser) async throws -> Page<ReviewItem> {
        guard (1...Self.listPageMax).contains(limit) else { throw OfficeError(.invalid, "\"limit\" is 1 to \(Self.listPageMax)") }
        if let kind = filter.kind, !ReviewFilter.kinds.contains(kind) { throw OfficeError(.invalid, "\"kind\" is one of \(ReviewFilter.kinds.joined(separator: ", "))") }
        if let table = filter.table, (try? tables.table(table)) == nil { throw OfficeError(.invalid, "\"table\" names no table of the schema") }
        var after: (source: String, seq: Int64)?
        if let cursor {
            let parts = cursor.split(separator: ":")
            guard parts.count == 2, ["decision", "conflict"].contains(parts[0]), let seq = Int64(parts[1]) else {
                throw OfficeError(.invalid, "\"after\" takes the \"next\" of the page before")
            }
            after = (String(parts[0]), seq)
        }
        let sight = try await sight(of: office)
        var items: [ReviewItem] = []
        if filter.kind != "conflict", after?.source != "conflict" {
            items += try await decisionItems(filter, after: after?.seq ?? 0, limit: limit + 1, only: nil, sight: sight, tenant: office.tenant)
        }
        if items.count <= limit, filter.kind == nil || filter.kind == "conflict" {
            items += try await conflictItems(filter, after: after?.source == "conflict" ? after!.seq : 0, limit: limit + 1 - items.count, only: nil,
                                             sight: sight, tenant: office.tenant, now: Int64(clock.milliseconds))
        }
        let page = Array(items.prefix(limit))
        return Page(items: page, next: items.count > limit ? page.last?.id : nil)
    }

    /// Flagged and refused changes after `seq` (or only the one numbered `only`).
    private func decisionItems(_ filter: ReviewFilter, after seq: Int64, limit: Int, only: Int64?, sight: OfficeSight, tenant: RecordID) async throws -> [ReviewItem] {
        let team = sight.team
        // A manager's items are chosen before the limit, not after: their team's, however many others come first.
        let rows = try await pool.query("""
            SELECT seq, result, tbl, record::text, rule, message, author_id::text, device_time, server_time, review, review_comment, change, server_state,
                   author_role
            FROM decisions WHERE tenant_id = $1 AND review IS NOT NULL AND (NOT $2 OR review = 'open') AND seq > $3 AND ($5 < 0 OR seq = $5)
              AND (NOT $6 OR author_id IS NULL OR author_id = ANY($7::uuid[]))
              AND ($8 = '' OR tbl = $8) AND ($9 = '' OR ($9 = 'rejection') = (result = 'rejected'))
              AND (NOT $10 OR \(Self.recordIn(table: "decisions.tbl", record: "decisions.record", territories: "$11")))
            ORDER BY seq LIMIT $4
            """, [tenant.uuidString, filter.openOnly, seq, Int64(limit), only ?? -1, team != nil, PostgresArray.literal(team ?? []),
                  filter.table ?? "", filter.kind ?? "", sight.territories != nil, PostgresArray.literal(sight.territories ?? [])])
        return try rows.map { row in
            ReviewItem(id: "decision:\(try row.read(0, as: Int64.self))", kind: try row.read(1, as: String.self) == "rejected" ? "rejection" : "exception",
                       table: try row.read(2, as: String.self), record: try row.read(3, as: RecordID.self), rule: try row.read(4, as: String.self),
                       message: try row.read(5, as: String.self), author: try row.read(6, as: String?.self).flatMap { RecordID($0) },
                       deviceTime: try row.read(7, as: Int64?.self), serverTime: try row.read(8, as: Int64?.self), review: try row.read(9, as: String.self),
                       comment: try row.read(10, as: String?.self),
                       // A stored value this build cannot read (an older limit) hides that value, never the list.
                       change: try row.read(11, as: [UInt8]?.self).flatMap { try? BinaryDecoder.decode(Change.self, from: $0) },
                       serverState: try row.read(12, as: [UInt8]?.self).flatMap { try? BinaryDecoder.decode(RecordState.self, from: $0) },
                       authorRole: try row.read(13, as: String?.self).map(Role.init))
        }
    }

    /// Conflicts after `seq` (or only the one numbered `only`); for a team, only those on its records.
    private func conflictItems(_ filter: ReviewFilter, after seq: Int64, limit: Int, only: Int64?, sight: OfficeSight, tenant: RecordID,
                               now: Int64) async throws -> [ReviewItem] {
        guard limit > 0 else { return [] }
        let team = sight.team
        let holds = { (table: String, column: String) in
            "(c.tbl = '\(table)' AND EXISTS (SELECT 1 FROM \(table) x WHERE x.tenant_id = c.tenant_id AND x.id = c.record AND x.\(column) = ANY($7::uuid[])))"
        }
        let teams = [holds("visits", "assignee_id"), holds("work_orders", "assignee_id"), holds("sales_orders", "created_by"), holds("contact_records", "author_id"),
                     """
                     (c.tbl = 'customers' AND EXISTS (SELECT 1 FROM customers x JOIN territory_owners o ON o.tenant_id = x.tenant_id AND o.territory_id = x.territory_id
                       WHERE x.tenant_id = c.tenant_id AND x.id = c.record AND NOT o._deleted AND o.user_id = ANY($7::uuid[])
                         AND o.valid_from <= $9 AND (o.valid_to IS NULL OR o.valid_to > $9)))
                     """]
        let rows = try await pool.query("""
            SELECT c.seq, c.tbl, c.record::text, c.field, c.winner, c.loser, coalesce(c.resolution, 'open'), c.comment FROM conflicts c
            WHERE c.tenant_id = $1 AND (NOT $2 OR c.resolution IS NULL) AND c.seq > $3 AND ($5 < 0 OR c.seq = $5) AND ($8 = '' OR c.tbl = $8)
              AND (NOT $6 OR \(teams.joined(separator: " OR ")))
              AND (NOT $10 OR \(Self.recordIn(table: "c.tbl", record: "c.record", territories: "$11")))
            ORDER BY c.seq LIMIT $4
            """, [tenant.uuidString, filter.openOnly, seq, Int64(limit), only ?? -1, team != nil, PostgresArray.literal(team ?? []), filter.table ?? "", now,
                  sight.territories != nil, PostgresArray.literal(sight.territories ?? [])])
        return try rows.map { row in
            let winner = try? BinaryDecoder.decode(FieldState.self, from: try row.read(4, as: [UInt8].self))
            let loser = try? BinaryDecoder.decode(FieldState.self, from: try row.read(5, as: [UInt8].self))
            return ReviewItem(id: "conflict:\(try row.read(0, as: Int64.self))", kind: "conflict", table: try row.read(1, as: String.self),
                              record: try row.read(2, as: RecordID.self), rule: try row.read(3, as: String.self),
                              message: "concurrent writes to \(try row.read(3, as: String.self)); the merge kept one", author: nil,
                              deviceTime: loser.map { Int64($0.version.clock.milliseconds) }, serverTime: nil, review: try row.read(6, as: String.self),
                              comment: try row.read(7, as: String?.self), winner: winner, loser: loser)
        }
    }

    /// The review item `id` names, as `office` may see it; `nil` when there is none for them.
    private func reviewItem(source: String, seq: Int64, by office: OfficeUser) async throws -> ReviewItem? {
        let sight = try await sight(of: office)
        let filter = ReviewFilter(openOnly: false)
        if source == "decision" { return try await decisionItems(filter, after: 0, limit: 1, only: seq, sight: sight, tenant: office.tenant).first }
        return try await conflictItems(filter, after: 0, limit: 1, only: seq, sight: sight, tenant: office.tenant, now: Int64(clock.milliseconds)).first
    }

    /// How a reviewer resolves an item.
    public enum Resolution: String, Sendable, CaseIterable {
        /// What the server did stands.
        case accept
        /// The author's side wins: a refused change is applied after all, a conflict's losing value is written back.
        case override
    }

    /// Resolves a review item with a comment (required to override).
    public func resolve(_ id: String, _ resolution: Resolution, comment: String?, by office: OfficeUser) async throws {
        let parts = id.split(separator: ":")
        guard parts.count == 2, let seq = Int64(parts[1]), ["decision", "conflict"].contains(parts[0]) else {
            throw OfficeError(.invalid, "a review id is decision:<n> or conflict:<n>")
        }
        if resolution == .override, comment?.allSatisfy(\.isWhitespace) ?? true { throw OfficeError(.invalid, "say why you override, in a comment") }
        // The one item, as this user may see it (a manager only their team's).
        guard let item = try await reviewItem(source: String(parts[0]), seq: seq, by: office) else {
            throw OfficeError(.notFound, "no review item \(id)")
        }
        guard item.review == "open" else { throw OfficeError(.invalidState, "\(id) is already \(item.review)") }
        if resolution == .override {
            switch item.kind {
            case "rejection":
                guard let change = item.change, case .write(let writes) = change.operation else { throw OfficeError(.invalidState, "\(id) holds no change to apply") }
                // The override sets aside the rule that refused the change, never its author's
                // rights: the change is admitted as its author (field access, identity, state
                // moves, scope), only the rules on arrival are skipped.
                guard let user = item.author, let role = item.authorRole else { throw OfficeError(.invalidState, "\(id) has no author to apply it as") }
                try await edit([OfficeEdit(change.table, change.record, writes.map { ($0.field, $0.value) })],
                               as: Author(role: role, user: user, now: clock.milliseconds), tenant: office.tenant, judging: false)
            case "conflict":
                guard let loser = item.loser else { throw OfficeError(.invalidState, "\(id) holds no losing value") }
                try await edit([OfficeEdit(item.table, item.record, [(item.rule, loser.value)])], by: nil, tenant: office.tenant, judging: false)
            default:
                throw OfficeError(.invalidState, "\(id) was applied with an exception; there is nothing to override — accept it, or edit the record")
            }
        }
        let state = resolution == .accept ? "accepted" : "overridden"
        if parts[0] == "decision" {
            try await pool.query("UPDATE decisions SET review = $3, reviewed_by = $4, reviewed_at = $5, review_comment = $6 WHERE tenant_id = $1 AND seq = $2",
                                 [office.tenant.uuidString, seq, state, office.user.uuidString, Int64(clock.milliseconds), comment])
        } else {
            try await pool.query("UPDATE conflicts SET resolution = $3, resolved_by = $4, resolved_at = $5, comment = $6 WHERE tenant_id = $1 AND seq = $2",
                                 [office.tenant.uuidString, seq, state, office.user.uuidString, Int64(clock.milliseconds), comment])
        }
        try await audit(table: item.table, record: item.record, rule: .review, message: "\(id) \(state)" + (comment.map { ": \($0)" } ?? ""), by: office)
    }
}
