import FieldModel
import Foundation
import Hummingbird
import Logging
import NIOCore
import OfficeStore
import SyncEngine
import SyncCore
import SyncWire

/// The dispatchers' and managers' API under `/v1/office/`, JSON in and out (`SyncProtocol/office.md`).
///
/// Every write goes through the store's office path (``SyncStore/edit(_:by:tenant:judging:)``):
/// the same merge, rules and feed as a device's change set. Errors are
/// `{"error": code, "message": text}` with 400 (`invalid`), 401 (`unauthorized`,
/// `token_expired`), 403 (`forbidden`), 404 (`not_found`) or 409 (`invalid_state`, `rejected`).
final class OfficeRoutes: Sendable {
    let store: SyncStore
    let auth: Authenticator
    let wallClock: any WallClock
    /// The largest office request body.
    static let bodyBytesMax = 256 * 1024

    let limiter: RateLimiter
    /// What wakes `GET /v1/office/live`, and how long it holds a request with nothing to report.
    let live: LiveFeed?
    let liveWait: Duration

    init(store: SyncStore, auth: Authenticator, wallClock: any WallClock, limiter: RateLimiter, live: LiveFeed? = nil, liveWait: Duration = .seconds(25)) {
        self.store = store
        self.auth = auth
        self.wallClock = wallClock
        self.limiter = limiter
        self.live = live
        self.liveWait = liveWait
    }

    typealias Handler = @Sendable (SyncStore.OfficeUser, OfficeBody, Request, BasicRequestContext) async throws -> JSONValue

    func register(on router: Router<BasicRequestContext>) {
        let office = router.group("/v1/office")
        // Dispatchers: plans, visits, work orders.
        office.post("visit-plans") { try await self.handle($0, $1, ["rep_id", "name", "period_start", "period_end"]) { user, body, _, _ in
            let id = try await self.store.createPlan(rep: try body.id("rep_id"), name: try body.text("name"), from: try body.time("period_start"),
                                                     to: try body.time("period_end"), by: user)
            return JSONValue.fields([("id", OfficeJSON.id(id))])
        } }
        office.post("visits") { try await self.handle($0, $1, ["plan_id", "customer_id", "assignee_id", "visit_type", "planned_start", "planned_end", "instructions", "tasks"]) { user, body, _, _ in
            var tasks: [SyncStore.NewTask] = []
            for task in try body.array("tasks") {
                let member = try OfficeBody(Array(task.printed.utf8), allowed: ["task_type", "required", "label", "answer_kind", "min_value", "max_value"])
                tasks.append(SyncStore.NewTask(type: try member.text("task_type"), required: try member.bool("required", default: false),
                                               label: try member.optionalText("label"), answerKind: try member.optionalText("answer_kind"),
                                               minValue: try member.optionalInteger("min_value"), maxValue: try member.optionalInteger("max_value")))
            }
            let visit = SyncStore.NewVisit(plan: try body.optionalID("plan_id"), customer: try body.id("customer_id"), assignee: try body.id("assignee_id"),
                                           visitType: try body.optionalText("visit_type") ?? "sales", plannedStart: try body.time("planned_start"),
                                           plannedEnd: try body.time("planned_end"), instructions: try body.optionalText("instructions"), tasks: tasks)
            return JSONValue.fields([("id", OfficeJSON.id(try await self.store.createVisit(visit, by: user)))])
        } }
        office.post("visits/:id/assign") { try await self.handle($0, $1, ["assignee_id"]) { user, body, _, context in
            try await self.store.assignVisit(try Self.id(context), to: try body.id("assignee_id"), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("visits/:id/reschedule") { try await self.handle($0, $1, ["planned_start", "planned_end"]) { user, body, _, context in
            try await self.store.rescheduleVisit(try Self.id(context), from: try body.time("planned_start"), to: try body.time("planned_end"), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("visits/:id/cancel") { try await self.handle($0, $1, []) { user, _, _, context in
            try await self.store.cancelVisit(try Self.id(context), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("work-orders") { try await self.handle($0, $1, ["customer_id", "asset_id", "work_type", "priority", "description", "window_start", "window_end", "assignee_id"]) { user, body, _, _ in
            let order = SyncStore.NewWorkOrder(customer: try body.id("customer_id"), asset: try body.optionalID("asset_id"), workType: try body.text("work_type"),
                                               priority: try body.optionalText("priority") ?? "normal", description: try body.optionalText("description"),
                                               windowStart: try body.optionalTime("window_start"), windowEnd: try body.optionalTime("window_end"),
                                               assignee: try body.optionalID("assignee_id"))
            return JSONValue.fields([("id", OfficeJSON.id(try await self.store.createWorkOrder(order, by: user)))])
        } }
        office.post("work-orders/:id/assign") { try await self.handle($0, $1, ["assignee_id"]) { user, body, _, context in
            try await self.store.assignWorkOrder(try Self.id(context), to: try body.id("assignee_id"), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.post("work-orders/:id/schedule") { try await self.handle($0, $1, ["window_start", "window_end"]) { user, body, _, context in
            try await self.store.scheduleWorkOrder(try Self.id(context), from: try body.time("window_start"), to: try body.time("window_end"), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        for (action, status) in [("hold", "on_hold"), ("cancel", "cancelled"), ("close", "closed")] {
            office.post("work-orders/:id/\(action)") { try await self.handle($0, $1, []) { user, _, _, context in
                try await self.store.moveWorkOrder(try Self.id(context), to: status, by: user)
                return JSONValue.fields([("ok", .bool(true))])
            } }
        }
        registerBoard(on: office)
        registerDispatch(on: office)
        registerImports(on: office)
        registerQuotes(on: office)
        registerPlanning(on: office)
        registerPeople(on: office)
        // Lists: filtered, newest first, paged with a cursor.
        office.get("orders") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let filter = SyncStore.OrderFilter(status: query.text("status"), rep: try query.id("rep"), customer: try query.id("customer"),
                                               from: try query.time("from"), to: try query.time("to"))
            let page = try await self.store.orders(filter, limit: try query.limit(), after: query.text("after"), by: user)
            return JSONValue.fields([
                ("orders", .array(page.items.map(OfficeJSON.order))),
                ("next", .text(page.next)),
            ])
        } }
        office.get("work-orders") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let filter = SyncStore.WorkOrderFilter(status: query.text("status"), assignee: try query.id("assignee"), customer: try query.id("customer"),
                                                   unassigned: try query.flag("unassigned"), from: try query.time("from"), to: try query.time("to"))
            let page = try await self.store.workOrders(filter, limit: try query.limit(), after: query.text("after"), by: user)
            return JSONValue.fields([
                ("work_orders", .array(page.items.map(OfficeJSON.workOrder))),
                ("next", .text(page.next)),
            ])
        } }
        office.get("customers") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let filter = SyncStore.CustomerFilter(search: query.text("search"), territory: try query.id("territory"), status: query.text("status"))
            let page = try await self.store.customers(filter, limit: try query.limit(), after: query.text("after"), by: user, now: Int64(self.wallClock.now()))
            return JSONValue.fields([
                ("customers", .array(page.items.map(OfficeJSON.customer))),
                ("next", .text(page.next)),
            ])
        } }
        office.get("devices") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let page = try await self.store.devices(user: try query.id("user"), limit: try query.limit(), after: query.text("after"), by: user)
            return JSONValue.fields([
                ("devices", .array(page.items.map { device in
                    JSONValue.fields([("replica", .integer(device.replica)), ("installation", OfficeJSON.id(device.installation)),
                                      ("user", OfficeJSON.id(device.user)), ("user_name", .text(device.userName)),
                                      ("platform", .string(device.platform)), ("app_version", .string(device.appVersion)),
                                      ("registered_at", OfficeJSON.time(device.registeredAt)), ("last_pull", OfficeJSON.time(device.lastPull)),
                                      ("newest_change", OfficeJSON.time(device.newestChange)), ("buckets", .integer(Int64(device.buckets))),
                                      ("buckets_behind", .integer(Int64(device.bucketsBehind))), ("revoked", .bool(device.revoked)), ("wipe", .bool(device.wipe))])
                })),
                ("next", .text(page.next)),
            ])
        } }
        office.post("devices/:replica/revoke") { try await self.handle($0, $1, ["wipe"]) { user, body, _, context in
            guard let replica = context.parameters.get("replica").flatMap({ Int64($0) }) else { throw SyncStore.OfficeError(.notFound, "a device is named by its replica number") }
            try await self.store.revokeDevice(replica: replica, wipe: try body.bool("wipe", default: false), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        office.get("visits") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let filter = SyncStore.VisitFilter(status: query.text("status"), assignee: try query.id("assignee"), customer: try query.id("customer"),
                                               from: try query.time("from"), to: try query.time("to"))
            let page = try await self.store.visits(filter, limit: try query.limit(), after: query.text("after"), by: user)
            return JSONValue.fields([
                ("visits", .array(page.items.map { visit in
                    JSONValue.fields([("id", OfficeJSON.id(visit.id)), ("customer", OfficeJSON.id(visit.customer)), ("customer_name", .string(visit.customerName)),
                                      ("assignee", OfficeJSON.id(visit.assignee)), ("assignee_name", .text(visit.assigneeName)),
                                      ("visit_type", .string(visit.visitType)), ("status", .string(visit.status)), ("creation_mode", .text(visit.creationMode)),
                                      ("planned_start", OfficeJSON.time(visit.plannedStart)), ("planned_end", OfficeJSON.time(visit.plannedEnd)),
                                      ("actual_start", OfficeJSON.time(visit.actualStart)), ("actual_end", OfficeJSON.time(visit.actualEnd)),
                                      ("executed_by", OfficeJSON.id(visit.executedBy)), ("abandon_reason", .text(visit.abandonReason))])
                })),
                ("next", .text(page.next)),
            ])
        } }
        office.get("payments") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let filter = SyncStore.PaymentFilter(order: try query.id("order"), customer: try query.id("customer"), rep: try query.id("rep"),
                                                 from: try query.time("from"), to: try query.time("to"))
            let page = try await self.store.payments(filter, limit: try query.limit(), after: query.text("after"), by: user)
            return JSONValue.fields([
                ("payments", .array(page.items.map(OfficeJSON.payment))),
                ("next", .text(page.next)),
            ])
        } }
        office.get("contact-records") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let filter = SyncStore.ContactRecordFilter(customer: try query.id("customer"), author: try query.id("author"),
                                                       from: try query.time("from"), to: try query.time("to"))
            let page = try await self.store.contactRecords(filter, limit: try query.limit(), after: query.text("after"), by: user)
            return JSONValue.fields([
                ("contact_records", .array(page.items.map { record in
                    JSONValue.fields([("id", OfficeJSON.id(record.id)), ("customer", OfficeJSON.id(record.customer)), ("customer_name", .text(record.customerName)),
                                      ("visit", OfficeJSON.id(record.visit)), ("author", OfficeJSON.id(record.author)), ("author_name", .text(record.authorName)),
                                      ("created_at", OfficeJSON.time(record.createdAt)), ("channel", .string(record.channel)), ("notes", .string(record.notes)),
                                      ("next_action", .text(record.nextAction)), ("next_action_at", OfficeJSON.time(record.nextActionAt)),
                                      ("comments", .array(record.comments.map { comment in
                                          JSONValue.fields([("id", OfficeJSON.id(comment.id)), ("author", OfficeJSON.id(comment.author)),
                                                            ("author_name", .text(comment.authorName)), ("created_at", OfficeJSON.time(comment.createdAt)),
                                                            ("body", .string(comment.body))])
                                      }))])
                })),
                ("next", .text(page.next)),
            ])
        } }
        office.get("shelf-counts") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let filter = SyncStore.ShelfCountFilter(customer: try query.id("customer"), product: try query.id("product"), rep: try query.id("rep"),
                                                    from: try query.time("from"), to: try query.time("to"))
            let page = try await self.store.shelfCounts(filter, limit: try query.limit(), after: query.text("after"), by: user)
            return JSONValue.fields([
                ("shelf_counts", .array(page.items.map { count in
                    JSONValue.fields([("id", OfficeJSON.id(count.id)), ("visit", OfficeJSON.id(count.visit)), ("customer", OfficeJSON.id(count.customer)),
                                      ("customer_name", .text(count.customerName)), ("product", OfficeJSON.id(count.product)),
                                      ("product_name", .text(count.productName)), ("sku", .text(count.sku)), ("quantity", .integer(count.quantity)),
                                      ("counted_at", OfficeJSON.time(count.countedAt)), ("rep", OfficeJSON.id(count.rep)), ("rep_name", .text(count.repName))])
                })),
                ("next", .text(page.next)),
            ])
        } }
        registerDetails(on: office)
        // Reports, computed in PostgreSQL, as JSON or CSV.
        office.get("reports/:kind") { request, context in
            try await self.respond(request, context, []) { user, _, request, context in
                guard let kind = SyncStore.ReportKind(rawValue: context.parameters.get("kind") ?? "") else {
                    throw SyncStore.OfficeError(.notFound, "the reports are \(SyncStore.ReportKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let query = ListQuery(request)
                let now = Int64(self.wallClock.now())
                let to = try query.time("to") ?? now
                let from = try query.time("from") ?? to - 30 * 86_400_000
                let grouping = try query.text("by").map { text in
                    guard let grouping = SyncStore.SalesGrouping(rawValue: text) else {
                        throw SyncStore.OfficeError(.invalid, "\"by\" is one of \(SyncStore.SalesGrouping.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return grouping
                } ?? .rep
                let report = try await self.store.report(kind, from: from, to: to, grouping: grouping, now: now, by: user)
                switch query.text("format") ?? "json" {
                case "csv":
                    return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                           .contentDisposition: "attachment; filename=\"\(kind.rawValue).csv\""],
                                    body: ResponseBody(byteBuffer: ByteBuffer(string: OfficeJSON.csv(report))))
                case "json":
                    return Self.json(.ok, OfficeJSON.json(report, kind: kind, from: from, to: to))
                default:
                    throw SyncStore.OfficeError(.invalid, "\"format\" is json or csv")
                }
            }
        }
        // The office's live channel: answers when anything of the tenant changed after `after`.
        office.get("live") { try await self.handle($0, $1, []) { user, _, request, _ in
            guard let live = self.live else { throw SyncStore.OfficeError(.invalid, "this server has no live channel") }
            let tenant = user.tenant.uuidString
            if let after = ListQuery(request).text("after") { await live.wait(tenant: tenant, after: after, timeout: self.liveWait) }
            return JSONValue.fields([("cursor", .string(live.cursor(tenant: tenant)))])
        } }
        // Review: conflicts, exceptions and quarantined changes.
        office.get("reviews") { try await self.handle($0, $1, []) { user, _, request, _ in
            let query = ListQuery(request)
            let state = query.text("state") ?? "open"
            guard ["open", "all"].contains(state) else { throw SyncStore.OfficeError(.invalid, "\"state\" is open or all") }
            let filter = SyncStore.ReviewFilter(openOnly: state == "open", kind: query.text("kind"), table: query.text("table"))
            let page = try await self.store.reviews(filter, limit: try query.limit(), after: query.text("after"), by: user)
            return JSONValue.fields([("reviews", .array(page.items.map(Self.json))), ("next", .text(page.next))])
        } }
        office.post("reviews/:id/resolve") { try await self.handle($0, $1, ["action", "comment"]) { user, body, _, context in
            let action = try body.text("action")
            guard let resolution = SyncStore.Resolution(rawValue: action) else { throw SyncStore.OfficeError(.invalid, "\"action\" is accept or override") }
            try await self.store.resolve(context.parameters.get("id") ?? "", resolution, comment: try body.optionalText("comment"), by: user)
            return JSONValue.fields([("ok", .bool(true))])
        } }
        // Managers.
        office.get("team") { try await self.handle($0, $1, []) { user, _, _, _ in
            .array(try await self.store.team(of: user).map { member in
                JSONValue.fields([("user", OfficeJSON.id(member.user)), ("role", .string(member.role)), ("name", .string(member.name)),
                                   ("manager", OfficeJSON.id(member.manager))])
            })
        } }
        for decision in SyncStore.OrderDecision.allCases {
            office.post("orders/:id/\(decision.rawValue)") { try await self.handle($0, $1, ["comment"]) { user, body, _, context in
                try await self.store.decide(decision, order: try Self.id(context), comment: try body.optionalText("comment"), by: user)
                return JSONValue.fields([("ok", .bool(true))])
            } }
        }
        office.post("contact-records/:id/comments") { try await self.handle($0, $1, ["body"]) { user, body, _, context in
            JSONValue.fields([("id", OfficeJSON.id(try await self.store.comment(on: try Self.id(context), body: try body.text("body"), by: user)))])
        } }
    }

    static func id(_ context: BasicRequestContext) throws -> RecordID {
        guard let text = context.parameters.get("id"), let id = RecordID(text) else { throw SyncStore.OfficeError(.invalid, "the path needs a record's UUID") }
        return id
    }

    static func json(_ item: SyncStore.ReviewItem) -> JSONValue {
        JSONValue.fields([
            ("id", .string(item.id)), ("kind", .string(item.kind)), ("table", .string(item.table)), ("record", OfficeJSON.id(item.record)),
            ("rule", .string(item.rule)), ("message", .string(item.message)), ("author", OfficeJSON.id(item.author)),
            ("device_time", OfficeJSON.time(item.deviceTime)), ("server_time", OfficeJSON.time(item.serverTime)), ("review", .string(item.review)),
            ("comment", JSONValue.text(item.comment)),
            ("change", item.change.map { change in
                guard case .write(let writes) = change.operation else { return .string("delete") }
                return .object(writes.map { JSONValue.Member($0.field, JSONValue.plain($0.value)) })
            } ?? .null),
            ("server_state", JSONValue.plain(item.serverState)),
            ("winner", item.winner.map { JSONValue.plain($0.value) } ?? .null), ("loser", item.loser.map { JSONValue.plain($0.value) } ?? .null),
        ])
    }

    func handle(_ request: Request, _ context: BasicRequestContext, _ allowed: Set<String>, _ body: @escaping Handler) async throws -> Response {
        try await respond(request, context, allowed) { user, parsed, request, context in Self.json(.ok, try await body(user, parsed, request, context)) }
    }

    /// Like ``handle(_:_:_:_:)`` for an upload: the body is a file of at most `bytesMax` bytes
    /// (`OfficeBody.file`), not JSON.
    func handleFile(_ request: Request, _ context: BasicRequestContext, bytesMax: Int, _ body: @escaping Handler) async throws -> Response {
        try await respond(request, context, nil, bytesMax: bytesMax) { user, parsed, request, context in Self.json(.ok, try await body(user, parsed, request, context)) }
    }

    /// Authenticates, checks the role and the budget, reads the body, and answers with what
    /// `body` makes (any response: JSON, CSV); office errors become their JSON answers.
    private func respond(_ request: Request, _ context: BasicRequestContext, _ allowed: Set<String>?, bytesMax: Int = OfficeRoutes.bodyBytesMax,
                         _ body: @escaping @Sendable (SyncStore.OfficeUser, OfficeBody, Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        do {
            let claims: TokenAuthority.Claims
            do {
                claims = try await auth.claims(request.headers[.authorization])
            } catch let error as TokenError {
                return Self.error(HTTPResponse.Status(code: error.httpStatus), error.answerCode, error.message)
            }
            guard [.dispatcher, .manager, .admin].contains(claims.role) else {
                return Self.error(.forbidden, "forbidden", "the office API is for dispatchers, managers and admins")
            }
            // Reads scan a day or a queue; writes touch a record or two.
            if let wait = limiter.take(for: claims.user, cost: request.method == .get ? RateLimiter.Cost.officeRead : RateLimiter.Cost.request) {
                return Self.rateLimited(wait)
            }
            let bytes: [UInt8]
            do {
                bytes = Array(try await request.body.collect(upTo: bytesMax).readableBytesView)
            } catch {
                return Self.error(.contentTooLarge, "body_too_large", "this office request has at most \(bytesMax) bytes")
            }
            let parsed = try allowed.map { try OfficeBody(bytes, allowed: $0) } ?? OfficeBody(file: bytes)
            return try await body(SyncStore.OfficeUser(user: claims.user, role: claims.role, tenant: claims.tenant), parsed, request, context)
        } catch let error as SyncStore.OfficeError {
            return Self.error(error)
        } catch let problems as ImportProblems {
            return Self.json(.badRequest, JSONValue.fields([
                ("error", .string("invalid")), ("message", .string("nothing imported: \(problems.problems.count) problem(s) in the file")),
                ("problems", .array(problems.problems.prefix(1_000).map { problem in
                    JSONValue.fields([("line", .integer(Int64(problem.line))), ("column", .text(problem.column)), ("message", .string(problem.message))])
                })),
            ]))
        } catch {
            context.logger.error("an office request failed", metadata: ["error": "\(error)"])
            return Self.error(.serviceUnavailable, "unavailable", "the server could not complete the request; retry later")
        }
    }

    /// The answer to an office error, with its status.
    static func error(_ error: SyncStore.OfficeError) -> Response {
        Self.error(status(of: error.code), error.code.rawValue, error.message)
    }

    /// The HTTP status of an office error (office.md, Errors).
    static func status(of code: SyncStore.OfficeError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalid: .badRequest
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .invalidState, .rejected: .conflict
        case .quotaExceeded: .tooManyRequests
        }
    }

    /// 429 `rate_limited`, with when to retry.
    static func rateLimited(_ wait: UInt64) -> Response {
        json(.tooManyRequests, JSONValue.fields([("error", .string("rate_limited")), ("message", .string("too many requests: retry later")),
                                                 ("retry_after_ms", .number(String(wait)))]))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(status, JSONValue.fields([("error", .string(code)), ("message", .string(message))]))
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: value.printed)))
    }
}
