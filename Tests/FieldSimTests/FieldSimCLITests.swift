import AsyncHTTPClient
import DemoData
import Foundation
import NIOCore
import NIOHTTP1
import PostgresDriver
import SyncCore
import SyncTesting
import SyncWire
import Synchronization
import Testing

/// `fieldsim` run as QA runs it: separate processes against `fieldsync-server dev`, with the
/// text and JSON output and the exit statuses the help promises.
@Suite("fieldsim end to end", .serialized)
struct FieldSimCLITests {
    struct Run {
        var status: Int32
        var output: String
        var error: String
        var json: JSONValue? { try? JSONValue.parse(Array(output.utf8)) }
    }

    static func fieldsim(_ arguments: [String], home: URL? = nil, stdin: [UInt8]? = nil) throws -> Run {
        let process = Process()
        process.executableURL = DevServer.built("fieldsim")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        if let home { environment["FIELDSIM_HOME"] = home.path }
        process.environment = environment
        let output = Pipe(), error = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin)) }
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self), error: String(decoding: err, as: UTF8.self))
    }

    static func member(_ value: JSONValue?, _ key: String) -> JSONValue? {
        guard case .object(let members)? = value else { return nil }
        return members.first { $0.key == key }?.value
    }

    static func text(_ value: JSONValue?, _ key: String) -> String? {
        if case .string(let text)? = member(value, key) { return text }
        return nil
    }

    /// A `fieldsync-server dev` in a new scratch directory.
    static func devServer() throws -> (URL, DevServer) {
        let directory = URL(fileURLWithPath: "/tmp/fieldsync-cli-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            return (directory, try DevServer.start(in: directory))
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    static func stop(_ server: DevServer, removing directory: URL) {
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("a phone and the office by hand: init, visits, offline check-in, sync, outcomes, exceptions, orders, approval, quotes, and every exit status")
    func deviceAndDispatch() async throws {
        let (directory, server) = try Self.devServer()
        defer { Self.stop(server, removing: directory) }
        let url = server.url.absoluteString
        let (rep, dispatcher, manager) = (try #require(server.tokens["rep"]), try #require(server.tokens["dispatcher"]), try #require(server.tokens["manager"]))
        let home = directory.appendingPathComponent("phone")
        let office = ["--server", url, "--token", dispatcher]

        // Setting up, and the usage errors.
        #expect(try Self.fieldsim(["device", "visits"], home: home).status == 64)
        #expect(try Self.fieldsim(["device", "init", "--server", url, "--token", "not-a-token"], home: home).status == 64)
        let initialized = try Self.fieldsim(["device", "init", "--server", url, "--token", rep, "--json"], home: home)
        #expect(initialized.status == 0, "\(initialized.error)")
        #expect(Self.text(initialized.json, "role") == "rep")

        let visits = try Self.fieldsim(["device", "visits", "--date", "2026-11-30", "--json"], home: home)
        guard case .array(let list)? = visits.json, let first = list.first else { Issue.record("no visits: \(visits.output) \(visits.error)"); return }
        #expect(list.count == 20)
        let visit = try #require(Self.text(first, "id"))
        let customer = try #require(Self.text(first, "customer_id"))
        #expect(try Self.fieldsim(["device", "visits", "--date", "2026-11-30"], home: home).output.contains(visit))

        // Offline: the check-in is recorded with the device's warning; sync refuses with status 3.
        #expect(try Self.fieldsim(["device", "offline"], home: home).status == 0)
        let checkIn = try Self.fieldsim(["device", "check-in", visit, "--north", "2000", "--json"], home: home)
        #expect(checkIn.status == 0, "\(checkIn.error)")
        #expect(checkIn.output.contains("outside_geofence"))
        let offline = try Self.fieldsim(["device", "sync"], home: home)
        #expect(offline.status == 3)
        #expect(offline.error.contains("online"))
        #expect(try Self.fieldsim(["device", "outbox"], home: home).output.contains("geo_events"))
        #expect(try Self.fieldsim(["device", "check-in", "not-a-visit"], home: home).status == 64)

        // Online: the server flags the check-in; the office sees it and accepts it.
        #expect(try Self.fieldsim(["device", "online"], home: home).status == 0)
        let synced = try Self.fieldsim(["device", "sync", "--json"], home: home)
        #expect(synced.status == 0, "\(synced.error)")
        // Flagged outside the geofence; from the demo's first Monday on (real time: the dev server's
        // clock), the missed-visit job may have marked the visit missed first, and the late
        // check-in that revives it is flagged too.
        guard case .number(let flagged)? = Self.member(synced.json, "flagged") else { Issue.record("no flagged count: \(synced.output)"); return }
        #expect((1...2).contains(Int(flagged) ?? 0), "\(synced.output)")
        #expect(try Self.fieldsim(["device", "outcomes", "--result", "applied_with_exception"], home: home).output.contains("outside_geofence"))
        let exceptions = try Self.fieldsim(["dispatch", "exceptions", "--json"] + office, home: home)
        #expect(exceptions.status == 0, "\(exceptions.error)")
        guard case .array(let items)? = Self.member(exceptions.json, "reviews"), let item = items.first(where: { Self.text($0, "rule") == "outside_geofence" }) else {
            Issue.record("no exception: \(exceptions.output)"); return
        }
        #expect(try Self.fieldsim(["dispatch", "resolve", try #require(Self.text(item, "id")), "--comment", "GPS in midtown"] + office).status == 0)
        let cancel = try Self.fieldsim(["dispatch", "cancel", visit] + office)
        #expect(cancel.status == 5)
        #expect(cancel.error.contains("invalid_state"))
        #expect(try Self.fieldsim(["dispatch", "board", "--day", "2026-11-30", "--server", url, "--token", rep]).status == 4)
        #expect(try Self.fieldsim(["dispatch", "board", "--day", "2026-11-30"] + office).output.contains("in_progress"))

        // An order with a discount over policy waits for the manager.
        let product = try #require(DemoGenerator().generate()["products"]?.rows.first?[0])
        let order = try #require(Self.text(try Self.fieldsim(["device", "order", "create", "--customer", customer, "--visit", visit, "--json"], home: home).json, "record"))
        #expect(try Self.fieldsim(["device", "order", "add-line", order, "--product", product, "--quantity", "3", "--discount-bp", "2000"], home: home).status == 0)
        let submitted = try Self.fieldsim(["device", "order", "submit", order], home: home)
        #expect(submitted.output.contains("discount_over_policy"), "the device previews the policy: \(submitted.output)")
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
        #expect(try Self.fieldsim(["dispatch", "approve", order] + office).status == 4, "a dispatcher does not approve")
        let approved = try Self.fieldsim(["dispatch", "approve", order, "--comment", "promotion", "--server", url, "--token", manager])
        #expect(approved.status == 0, "\(approved.error)")
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
        let line = try Self.fieldsim(["device", "order", "add-line", order, "--product", product, "--quantity", "1"], home: home)
        #expect(line.status == 2, "the phone refuses to edit a confirmed order: \(line.error)")

        // What a rep looks up without sqlite3: customers, products, a visit with its tasks, and
        // the last price on a new line (the confirmed order above set it).
        let name = try #require(Self.text(first, "customer"))
        let customers = try Self.fieldsim(["device", "customers", "--search", String(name.prefix(6)).uppercased(), "--json"], home: home)
        guard case .array(let found)? = customers.json else { Issue.record("customers: \(customers.output) \(customers.error)"); return }
        #expect(found.contains { Self.text($0, "id") == customer })
        #expect(try Self.fieldsim(["device", "customers", "--search", "no such customer anywhere"], home: home).output == "no customers match\n")
        let products = try #require(DemoGenerator().generate()["products"])
        let skuColumn = try #require(products.columns.firstIndex(of: "sku"))
        let sku = try #require(products.rows.first?[skuColumn])
        let listed = try Self.fieldsim(["device", "products", "--search", sku, "--json"], home: home)
        guard case .array(let catalogue)? = listed.json else { Issue.record("products: \(listed.output) \(listed.error)"); return }
        #expect(catalogue.contains { Self.text($0, "id") == product })
        #expect(try Self.fieldsim(["device", "products", "--limit", "0"], home: home).status == 64)
        let shown = try Self.fieldsim(["device", "visit", visit, "--json"], home: home)
        #expect(Self.text(shown.json, "customer_id") == customer && Self.text(shown.json, "status") == "in_progress", "\(shown.output) \(shown.error)")
        if case .array? = shown.json?["tasks"] {} else { Issue.record("the visit lists no tasks array: \(shown.output)") }
        #expect(try Self.fieldsim(["device", "visit", RecordID(high: 1, low: 1).uuidString], home: home).status == 2)
        let again = try #require(Self.text(try Self.fieldsim(["device", "order", "create", "--customer", customer, "--json"], home: home).json, "record"))
        let quoted = try Self.fieldsim(["device", "order", "add-line", again, "--product", product, "--quantity", "1", "--json"], home: home)
        #expect(quoted.json?["last_price_minor"] != nil, "no last price on the line: \(quoted.output) \(quoted.error)")
        #expect(try Self.fieldsim(["device", "order", "add-line", again, "--product", product, "--quantity", "1"], home: home).output.contains("last price for this customer"))

        // No dead ends: a rejected order is reopened, fixed and sent again.
        let rejected = try #require(Self.text(try Self.fieldsim(["device", "order", "create", "--customer", customer, "--json"], home: home).json, "record"))
        let rejectedLine = try #require(Self.text(try Self.fieldsim(["device", "order", "add-line", rejected, "--product", product, "--quantity", "2",
                                                                      "--discount-bp", "3000", "--json"], home: home).json, "record"))
        #expect(try Self.fieldsim(["device", "order", "submit", rejected], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
        let rejection = try Self.fieldsim(["dispatch", "reject", rejected, "--comment", "30 % is too much", "--server", url, "--token", manager])
        #expect(rejection.status == 0, "\(rejection.error)")
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "order", "update-line", rejectedLine, "--quantity", "2"], home: home).status == 2, "a rejected order's lines wait for a reopen")
        let reopened = try Self.fieldsim(["device", "order", "reopen", rejected], home: home)
        #expect(reopened.status == 0 && reopened.output.contains("reopened order"), "\(reopened.output) \(reopened.error)")
        #expect(try Self.fieldsim(["device", "order", "update-line", rejectedLine, "--quantity", "2", "--discount-bp", "0"], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "order", "submit", rejected], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "order", "reopen", rejected], home: home).status == 2, "only a rejected order reopens")
        // The last order again; a shelf counted empty on the store's out-of-stock list; an ad hoc visit.
        let repeated = try Self.fieldsim(["device", "order", "repeat", "--customer", customer, "--json"], home: home)
        #expect(repeated.status == 0 && Self.text(repeated.json, "record") != nil, "\(repeated.output) \(repeated.error)")
        #expect(try Self.fieldsim(["device", "shelf-count", visit, "--product", product, "--quantity", "0"], home: home).status == 0)
        let empty = try Self.fieldsim(["device", "out-of-stock", customer, "--json"], home: home)
        guard case .array(let shelves)? = empty.json else { Issue.record("out-of-stock: \(empty.output) \(empty.error)"); return }
        #expect(shelves.map { Self.text($0, "product") } == [product])
        let adHoc = try Self.fieldsim(["device", "ad-hoc", "--customer", customer, "--json"], home: home)
        #expect(adHoc.status == 0 && Self.text(adHoc.json, "record") != nil, "\(adHoc.output) \(adHoc.error)")
        // A quote: made, a line, sent, copied, the copy converted into an order; a converted quote converts no more.
        let quote = try #require(Self.text(try Self.fieldsim(["device", "quote", "create", "--customer", customer, "--days", "14", "--json"], home: home).json, "record"))
        #expect(try Self.fieldsim(["device", "quote", "add-line", quote, "--product", product, "--quantity", "4"], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "quote", "move", quote, "sent"], home: home).status == 0)
        let copy = try #require(Self.text(try Self.fieldsim(["device", "quote", "copy", quote, "--json"], home: home).json, "record"))
        let converted = try Self.fieldsim(["device", "quote", "convert", copy], home: home)
        #expect(converted.status == 0 && converted.output.contains("created order"), "\(converted.output) \(converted.error)")
        #expect(try Self.fieldsim(["device", "quote", "convert", copy], home: home).status != 0)
        #expect(try Self.fieldsim(["device", "quote", "create", "--customer", customer, "--days", "400"], home: home).status != 0)
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)

        // The rep's week by hand: a plan proposed and submitted; the manager approves it; its visit reaches the phone.
        let plan = try #require(Self.text(try Self.fieldsim(["device", "week-plan", "create", "--week", "2026-12-07", "--json"], home: home).json, "record"))
        #expect(try Self.fieldsim(["device", "week-plan", "submit", plan], home: home).status == 2, "an empty plan is not submitted")
        let proposed = try Self.fieldsim(["device", "week-plan", "propose", plan, "--customer", customer, "--start", "2026-12-08T09:00:00Z", "--purpose", "tasting"], home: home)
        #expect(proposed.status == 0 && proposed.output.contains("proposed visit"), "\(proposed.output) \(proposed.error)")
        #expect(try Self.fieldsim(["device", "week-plan", "propose", plan, "--customer", customer, "--start", "2026-12-20T09:00:00Z"], home: home).status == 2)
        #expect(try Self.fieldsim(["device", "week-plan", "submit", plan], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
        let waiting = try Self.fieldsim(["dispatch", "week-plan", "list", "--status", "submitted", "--server", url, "--token", manager])
        #expect(waiting.status == 0 && waiting.output.contains(plan), "\(waiting.output) \(waiting.error)")
        #expect(try Self.fieldsim(["dispatch", "week-plan", "approve", plan] + office).status == 4, "only managers decide weekly plans")
        let approvedPlan = try Self.fieldsim(["dispatch", "week-plan", "approve", plan, "--note", "good", "--server", url, "--token", manager])
        #expect(approvedPlan.status == 0 && approvedPlan.output.contains("approved") && approvedPlan.output.contains("→ visit"), "\(approvedPlan.output) \(approvedPlan.error)")
        var planShown = ""
        for _ in 0..<20 where !planShown.contains("→ visit") {
            #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
            planShown = try Self.fieldsim(["device", "week-plan", "list"], home: home).output
        }
        #expect(planShown.contains("approved") && planShown.contains("→ visit"), "\(planShown)")
        // A recurring visit plan by the office, run now.
        let repID = try #require(Self.text(initialized.json, "user"))
        let saved = try Self.fieldsim(["dispatch", "visit-schedule", "save", "--customer", customer, "--rep", repID, "--weekday", "2", "--at", "10:30",
                                       "--start", "2026-12-01"] + office)
        #expect(saved.status == 0 && saved.output.contains("created recurring visit plan"), "\(saved.output) \(saved.error)")
        #expect(try Self.fieldsim(["dispatch", "visit-schedule", "list", "--rep", repID] + office).output.contains("at 10:30"))
        let ran = try Self.fieldsim(["dispatch", "visit-schedule", "run"] + office)
        #expect(ran.status == 0 && ran.output.hasPrefix("created "), "\(ran.output) \(ran.error)")
        // A typed task answered by hand: the wrong kind refused on the phone, a number out of range warned.
        let audited = try Self.fieldsim(["dispatch", "visit", "--customer", customer, "--assignee", repID, "--start", "2026-12-02T09:00:00Z", "--end", "2026-12-02T10:00:00Z",
                                         "--question", "survey:number:Facings of our brand:0:40"] + office + ["--json"])
        let auditVisit = try #require(Self.text(audited.json, "id"), "\(audited.output) \(audited.error)")
        var taskID: String?
        for _ in 0..<20 where taskID == nil {
            #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
            if case .array(let tasks)? = try Self.fieldsim(["device", "visit", auditVisit, "--json"], home: home).json?["tasks"] { taskID = tasks.first.flatMap { Self.text($0, "id") } }
        }
        let task = try #require(taskID)
        #expect(try Self.fieldsim(["device", "answer", task, "--yes-no", "yes"], home: home).status == 2)
        let answered = try Self.fieldsim(["device", "answer", task, "--number", "55"], home: home)
        #expect(answered.status == 0 && answered.output.contains("task_out_of_range"), "\(answered.output) \(answered.error)")
        #expect(try Self.fieldsim(["device", "visit", auditVisit], home: home).output.contains("“Facings of our brand” (number)"))
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
    }

    @Test("automatic dispatch by hand: a work type, a technician's week, skills and territory, a run that assigns with its reason, accept, modes, the refusals, and a maintenance plan")
    func autoDispatchByHand() async throws {
        let (directory, server) = try Self.devServer()
        defer { Self.stop(server, removing: directory) }
        let office = ["--server", server.url.absoluteString, "--token", try #require(server.tokens["dispatcher"])]
        let manager = ["--server", server.url.absoluteString, "--token", try #require(server.tokens["manager"])]
        let data = DemoGenerator().generate()
        let technician = try #require(data["users"]?.rows.first { $0[2] == "technician" }?[0] ?? nil)
        let customers = try #require(data["customers"])
        let customer = try #require(customers.rows.first { $0[customers.columns.firstIndex(of: "latitude")!] != nil })
        let territory = try #require(customer[customers.columns.firstIndex(of: "territory_id")!])

        #expect(try Self.fieldsim(["dispatch", "technician", "list"] + office).output.contains("no working week"))
        #expect(try Self.fieldsim(["dispatch", "work-type", "save", "boiler_repair", "--minutes", "90", "boiler=2"] + office).status == 0)
        #expect(try Self.fieldsim(["dispatch", "work-type", "save", "boiler_repair", "boiler"] + office).status == 64)
        #expect(try Self.fieldsim(["dispatch", "technician", "profile", technician, "--start", "07:30", "--end", "16:00", "--days", "mon,tue,wed,thu,fri,sat"] + office).status == 0)
        #expect(try Self.fieldsim(["dispatch", "technician", "skills", technician, "boiler=3", "gas=1"] + office).status == 0)
        #expect(try Self.fieldsim(["dispatch", "technician", "territories", technician, territory] + office).status == 0)
        let listed = try Self.fieldsim(["dispatch", "technician", "list"] + office).output
        #expect(listed.contains("07:30–16:00, 6 a day") && listed.contains("boiler L3, gas L1"), "\(listed)")
        #expect(try Self.fieldsim(["dispatch", "technician", "list"] + manager).status == 4)

        // A work order a few months out (the dev server's clock is the real one): assigned to the technician, with the reason.
        let created = try Self.fieldsim(["dispatch", "work-order", "create", "--customer", customer[0]!, "--type", "boiler_repair",
                                         "--start", "2027-03-03T14:00:00Z", "--end", "2027-03-03T22:00:00Z", "--json"] + office)
        let order = try #require(Self.text(created.json, "id"), "\(created.output) \(created.error)")
        let run = try Self.fieldsim(["dispatch", "auto-dispatch", "run", order] + office)
        #expect(run.status == 0 && run.output.contains("assigned") && run.output.contains("skills: boiler L2"), "\(run.output) \(run.error)")
        let decisions = try Self.fieldsim(["dispatch", "auto-dispatch", "decisions", "--work-order", order, "--json"] + office)
        guard case .array(let list)? = Self.member(decisions.json, "decisions"), let number = Self.member(list.first, "id")?.printed.filter(\.isNumber) else {
            Issue.record("no decisions: \(decisions.output)"); return
        }
        #expect(try Self.fieldsim(["dispatch", "auto-dispatch", "accept", number] + office).output.contains("accepted"))
        #expect(try Self.fieldsim(["dispatch", "auto-dispatch", "accept", number] + office).status == 5)
        #expect(try Self.fieldsim(["dispatch", "auto-dispatch", "mode", order, "manual"] + office).status == 0)
        #expect(try Self.fieldsim(["dispatch", "auto-dispatch", "mode", order, "sometimes"] + office).status == 64)
        // Only an admin turns the tenant's switch.
        #expect(try Self.fieldsim(["dispatch", "auto-dispatch", "tenant", "on"] + office).status == 4)
        // A maintenance plan for an asset, monthly from March 2027, and the job run by hand.
        let asset = try #require(data["assets"]?.rows.first?[0] ?? nil)
        #expect(try Self.fieldsim(["dispatch", "maintenance-plan", "save", "--asset", asset, "--start", "2027-03-01T14:00:00Z"] + office).status == 64)
        let plan = try Self.fieldsim(["dispatch", "maintenance-plan", "save", "--asset", asset, "--months", "1", "--start", "2027-03-01T14:00:00Z", "--lead", "365"] + office)
        #expect(plan.status == 0 && plan.output.contains("created maintenance plan"), "\(plan.output) \(plan.error)")
        #expect(try Self.fieldsim(["dispatch", "maintenance-plan", "list", "--asset", asset] + office).output.contains("every 1 months"))
        let ran = try Self.fieldsim(["dispatch", "maintenance-plan", "run"] + office).output
        #expect(ran.hasPrefix("created ") && !ran.hasPrefix("created 0"), "\(ran)")
        #expect(try Self.fieldsim(["dispatch", "maintenance-plan", "run"] + office).output.contains("created 0, updated 0, cancelled 0"))

        // A checklist on the demo's repair type; the technician's phone lists it and answers a step out of range (a warning, kept).
        let technicianToken = try #require(server.tokens["technician"])
        #expect(try Self.fieldsim(["dispatch", "work-type", "save", "repair", "--step", "Leak fixed:yes_no", "--step", "Pressure (bar):number:1:4"] + office).status == 0)
        #expect(try Self.fieldsim(["dispatch", "work-type", "save", "repair", "--step", "Pressure"] + office).status == 64)
        let home = directory.appendingPathComponent("technician")
        #expect(try Self.fieldsim(["device", "init", "--server", server.url.absoluteString, "--token", technicianToken], home: home).status == 0)
        let repair = try #require(data["work_orders"]?.rows.first { $0[9] == technician && $0[4] == "repair" && ["scheduled", "dispatched", "en_route", "on_site"].contains($0[10] ?? "") }?[0] ?? nil)
        let checklist = try Self.fieldsim(["device", "work-order", "steps", repair, "--json"], home: home)
        guard case .array(let stepsListed)? = checklist.json, stepsListed.count == 2, let pressure = Self.text(stepsListed[1], "id") else {
            Issue.record("no checklist: \(checklist.output) \(checklist.error)"); return
        }
        let answered = try Self.fieldsim(["device", "work-order", "step", repair, pressure, "--number", "9"], home: home)
        #expect(answered.status == 0 && answered.output.contains("step_out_of_range"), "\(answered.output) \(answered.error)")
        #expect(try Self.fieldsim(["device", "work-order", "step", repair, pressure, "--yes", "--number", "2"], home: home).status == 64)
        #expect(try Self.fieldsim(["device", "work-order", "step", repair, pressure, "--yes"], home: home).status != 0)
        #expect(try Self.fieldsim(["device", "work-order", "steps", repair], home: home).output.contains("[x]  Pressure (bar) (number)  9"))
        // The repair's asset gets a plan every 500 hours; the technician reads its meter on site; the office sees the reading and the next threshold.
        let repairAsset = try #require(data["work_orders"]?.rows.first { $0[0] == repair }?[3] ?? nil)
        #expect(try Self.fieldsim(["dispatch", "maintenance-plan", "save", "--asset", repairAsset, "--every", "500", "--start", "2027-03-01T00:00:00Z"] + office).status == 64)
        let byMeter = try Self.fieldsim(["dispatch", "maintenance-plan", "save", "--asset", repairAsset, "--every", "500", "--meter", "hours", "--start", "2026-11-01T00:00:00Z"] + office)
        #expect(byMeter.status == 0, "\(byMeter.output) \(byMeter.error)")
        let meter = try Self.fieldsim(["device", "work-order", "meter", repair, "hours", "1200"], home: home)
        #expect(meter.status == 0 && meter.output.contains("read meter"), "\(meter.output) \(meter.error)")
        #expect(try Self.fieldsim(["device", "work-order", "meter", repair, "hours", "-3"], home: home).status != 0)
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)
        // 1,000 is passed and next to generate; the job generates it; 1,500 is next, with no forecast from a single reading.
        #expect(try Self.fieldsim(["dispatch", "maintenance-plan", "meters", repairAsset] + office).output.contains("hours at 1200, next 1000: due "))
        #expect(try Self.fieldsim(["dispatch", "maintenance-plan", "run"] + office).output.contains("created 1,"))
        let meters = try Self.fieldsim(["dispatch", "maintenance-plan", "meters", repairAsset] + office).output
        #expect(meters.contains("hours at 1200, next 1500: no forecast") && meters.contains("hours 1200"), "\(meters)")
        #expect(try Self.fieldsim(["dispatch", "maintenance-plan", "list", "--asset", repairAsset] + office).output.contains("every 500 hours from 0"))
    }

    @Test("photos and signatures by hand: check-in --photo, work-order resolve --signature, the attachments listing, bytes on demand, a file too large")
    func attachments() async throws {
        let (directory, server) = try Self.devServer()
        defer { Self.stop(server, removing: directory) }
        let url = server.url.absoluteString
        let rep = directory.appendingPathComponent("rep"), technician = directory.appendingPathComponent("technician")
        #expect(try Self.fieldsim(["device", "init", "--server", url, "--token", try #require(server.tokens["rep"])], home: rep).status == 0)
        #expect(try Self.fieldsim(["device", "init", "--server", url, "--token", try #require(server.tokens["technician"])], home: technician).status == 0)

        let photo = directory.appendingPathComponent("shelf.jpg")
        let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + (0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try Data(bytes).write(to: photo)
        let big = directory.appendingPathComponent("huge.jpg")
        _ = FileManager.default.createFile(atPath: big.path, contents: nil)
        try FileHandle(forWritingTo: big).truncate(atOffset: UInt64(Schema.blobBytesMax + 1))

        let visits = try Self.fieldsim(["device", "visits", "--date", "2026-11-30", "--json"], home: rep)
        guard case .array(let list)? = visits.json, list.count >= 2 else { Issue.record("no visits: \(visits.output) \(visits.error)"); return }
        let tooLarge = try Self.fieldsim(["device", "check-in", try #require(Self.text(list[1], "id")), "--photo", big.path], home: rep)
        #expect(tooLarge.status == 2 && tooLarge.error.contains("16 MiB"), "\(tooLarge.error)")
        #expect(try Self.fieldsim(["device", "check-in", try #require(Self.text(list[1], "id")), "--photo", directory.appendingPathComponent("none.jpg").path], home: rep).status == 64)
        let checkIn = try Self.fieldsim(["device", "check-in", try #require(Self.text(list[0], "id")), "--photo", photo.path], home: rep)
        #expect(checkIn.status == 0, "\(checkIn.error)")
        #expect(try Self.fieldsim(["device", "attachments"], home: rep).output.contains("waiting for its record"))

        let synced = try Self.fieldsim(["device", "sync"], home: rep)
        #expect(synced.status == 0 && synced.output.contains("uploaded 1 photo"), "\(synced.output) \(synced.error)")
        let listed = try Self.fieldsim(["device", "attachments", "--json"], home: rep)
        guard case .array(let attachments)? = listed.json, let attachment = attachments.first else { Issue.record("no attachments: \(listed.output)"); return }
        #expect(Self.text(attachment, "status") == "uploaded" && Self.text(attachment, "media_type") == "image/jpeg", "\(listed.output)")
        let copy = directory.appendingPathComponent("copy.jpg")
        let fetched = try Self.fieldsim(["device", "attachment", try #require(Self.text(attachment, "id")), "--output", copy.path], home: rep)
        #expect(fetched.status == 0, "\(fetched.error)")
        #expect(try Data(contentsOf: copy) == Data(bytes))

        // The technician's signature, on a work order of theirs.
        let workOrder = try #require(DemoGenerator().generate()["work_orders"]?.rows.first?[0])
        let signature = directory.appendingPathComponent("signature.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("a signature".utf8)).write(to: signature)
        let resolved = try Self.fieldsim(["device", "work-order", "resolve", workOrder, "Replaced the door seal.", "--signature", signature.path], home: technician)
        #expect(resolved.status == 0, "\(resolved.error)")
        #expect(try Self.fieldsim(["device", "sync"], home: technician).output.contains("uploaded 1 photo"))
        let signed = try Self.fieldsim(["device", "attachments", "--json"], home: technician)
        guard case .array(let signatures)? = signed.json, let first = signatures.first else { Issue.record("no signature: \(signed.output)"); return }
        #expect(Self.text(first, "kind") == "signature" && Self.text(first, "status") == "uploaded" && Self.text(first, "media_type") == "image/png", "\(signed.output)")
    }

    @Test("a revoked phone and a wiped phone by hand: the admin's command revokes one, the next sync stops with the reason; the wiped one uploads and empties")
    func revokedAndWiped() async throws {
        let (directory, server) = try Self.devServer()
        defer { Self.stop(server, removing: directory) }
        let url = server.url.absoluteString
        let (dispatcher, database) = (try #require(server.tokens["dispatcher"]), try #require(server.database))
        let tenant = try #require(DemoGenerator().generate().tenant)
        func admin(_ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = DevServer.built("fieldsync-server")
            process.arguments = ["admin"] + arguments + ["--tenant", tenant.uuidString, "--database-url", database]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        for (role, wipe) in [("rep", false), ("technician", true)] {
            let home = directory.appendingPathComponent(role)
            let initialized = try Self.fieldsim(["device", "init", "--server", url, "--token", try #require(server.tokens[role]), "--json"], home: home)
            let user = try #require(Self.text(initialized.json, "user"), "\(initialized.output) \(initialized.error)")
            let listed = try Self.fieldsim(["dispatch", "devices", "--user", user, "--json", "--server", url, "--token", dispatcher])
            guard case .array(let devices)? = Self.member(listed.json, "devices"), let replica = devices.first.flatMap({ Self.member($0, "replica") }) else {
                Issue.record("no device listed: \(listed.output) \(listed.error)"); return
            }
            #expect(try admin(["device-revoke", replica.printed.trimmingCharacters(in: .whitespacesAndNewlines)] + (wipe ? ["--wipe"] : [])) == 0)
            let refused = try Self.fieldsim(["device", "sync"], home: home)
            #expect(refused.status == 4 && refused.error.contains(wipe ? "wiped" : "revoked"), "\(refused.output) \(refused.error)")
            let shown = try Self.fieldsim(["dispatch", "devices", "--user", user, "--server", url, "--token", dispatcher]).output
            #expect(shown.contains(wipe ? "wiped" : "revoked"), "\(shown)")
            // The revoked phone keeps its data; the wiped one holds none, registered to nobody.
            let products = try Self.fieldsim(["device", "products", "--json"], home: home)
            if case .array(let held)? = products.json {
                #expect(wipe ? held.isEmpty : !held.isEmpty, "\(role): \(held.count) products")
            } else {
                #expect(wipe, "\(products.output) \(products.error)")
            }
        }
    }

    @Test("fieldsim plays a phone through a restore: the dev database dumped mid-morning and restored after the check-out synced; the next sync uploads the check-out again and says so")
    func restore() async throws {
        let (directory, first) = try Self.devServer()
        var server = first
        defer { Self.stop(server, removing: directory) }
        let home = directory.appendingPathComponent("phone")
        #expect(try Self.fieldsim(["device", "init", "--server", server.url.absoluteString, "--token", try #require(server.tokens["rep"])], home: home).status == 0)
        let visits = try Self.fieldsim(["device", "visits", "--date", "2026-11-30", "--json"], home: home)
        guard case .array(let list)? = visits.json, let visit = list.first.flatMap({ Self.text($0, "id") }) else { Issue.record("no visits: \(visits.output)"); return }
        #expect(try Self.fieldsim(["device", "check-in", visit], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "sync"], home: home).status == 0)

        // The nightly dump, then more work the server acknowledges.
        let database = try #require(server.database)
        let backup = directory.appendingPathComponent("backup.dump")
        try await PostgresCluster.dump(database, to: backup)
        #expect(try Self.fieldsim(["device", "check-out", visit], home: home).status == 0)
        let synced = try Self.fieldsim(["device", "sync", "--json"], home: home)
        #expect(Self.text(synced.json, "generation") != nil && Self.member(synced.json, "outbox") == .number("0"), "\(synced.output) \(synced.error)")

        // The database is lost and restored from the dump (a new database: a new generation);
        // the server comes back on it.
        server.stop()
        let cluster = try await PostgresCluster.start(in: directory.appendingPathComponent(".fieldsync/postgres"))
        do {
            let admin = try await PostgresConnection.connect(cluster.connectionString(database: "postgres"))
            try await admin.execute("DROP DATABASE \(PostgresCluster.defaultDatabase)")
            try await admin.execute("CREATE DATABASE \(PostgresCluster.defaultDatabase)")
            try await PostgresCluster.restore(backup, into: cluster.connectionString())
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
        server = try DevServer.start(in: directory)
        #expect(try Self.fieldsim(["device", "init", "--server", server.url.absoluteString, "--token", try #require(server.tokens["rep"]), "--offline"], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "online"], home: home).status == 0)

        let again = try Self.fieldsim(["device", "sync"], home: home)
        #expect(again.status == 0 && again.output.contains("the server's database was restored") && again.output.contains("uploaded again 2 change set(s)"),
                "\(again.output) \(again.error)")
        let pool = try PostgresPool(.init(connectionString: try #require(server.database)))
        let events = try await pool.query("SELECT kind FROM geo_events WHERE visit_id = $1 ORDER BY kind", [visit]).map { try $0.read(0, as: String.self) }
        await pool.close()
        #expect(events == ["check_in", "check_out"], "the check-out the restore lost is back, once")
        let quiet = try Self.fieldsim(["device", "sync", "--json"], home: home)
        #expect(Self.member(quiet.json, "restores_met") == .number("0") && Self.member(quiet.json, "pushed") == .number("0"), "\(quiet.output)")
    }

    @Test("device status --watch prints the status live while another process syncs")
    func statusWatch() async throws {
        let (directory, server) = try Self.devServer()
        defer { Self.stop(server, removing: directory) }
        let home = directory.appendingPathComponent("rep")
        #expect(try Self.fieldsim(["device", "init", "--server", server.url.absoluteString, "--token", try #require(server.tokens["rep"])], home: home).status == 0)
        let visits = try Self.fieldsim(["device", "visits", "--date", "2026-11-30", "--json"], home: home)
        guard case .array(let list)? = visits.json, let first = list.first else { Issue.record("no visits: \(visits.output)"); return }
        #expect(try Self.fieldsim(["device", "check-in", try #require(Self.text(first, "id"))], home: home).status == 0)
        #expect(try Self.fieldsim(["device", "status", "--updates", "2"], home: home).status == 64, "--updates goes with --watch")

        // The watcher runs on; its lines are read as they come.
        let watcher = Process()
        watcher.executableURL = DevServer.built("fieldsim")
        watcher.arguments = ["device", "status", "--watch", "--json"]
        watcher.environment = ProcessInfo.processInfo.environment.merging(["FIELDSIM_HOME": home.path]) { $1 }
        let pipe = Pipe()
        watcher.standardOutput = pipe
        let lines = Mutex<[JSONValue]>([])
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            let parsed = text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
            lines.withLock { $0 += parsed }
        }
        try watcher.run()
        defer { if watcher.isRunning { watcher.terminate() } }
        func wait(for condition: ([JSONValue]) -> Bool) async throws -> Bool {
            for _ in 0..<200 {
                if lines.withLock({ condition($0) }) { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }
        func number(_ line: JSONValue, _ key: String) -> Int? { if case .number(let text)? = Self.member(line, key) { Int(text) } else { nil } }
        #expect(try await wait { $0.first.map { number($0, "pending_change_sets") == 1 } ?? false }, "the first status counts the check-in")
        let synced = try Self.fieldsim(["device", "sync"], home: home)
        #expect(synced.status == 0, "\(synced.error)")
        let seen = try await wait { $0.contains { line in
            number(line, "pending_change_sets") == 0 && Self.text(line, "activity") == "idle" && Self.member(line, "reachable") == .bool(true)
                && Self.member(line, "last_push_at") != .null
        } }
        #expect(seen, "the watcher printed the synced status: \(lines.withLock { $0 })")
        pipe.fileHandleForReading.readabilityHandler = nil
    }

    @Test("decode prints any wire message as JSON, and says why bytes are not one")
    func decode() throws {
        let golden = Fixtures.directory.appendingPathComponent("protocol")
        for name in ["live_notice", "error_clock_ahead"] {
            let run = try Self.fieldsim(["decode", golden.appendingPathComponent("\(name).bin").path])
            #expect(run.status == 0)
            let expected = try String(contentsOf: golden.appendingPathComponent("\(name).json"), encoding: .utf8)
            #expect(try JSONValue.parse(Array(run.output.utf8)) == JSONValue.parse(Array(expected.utf8)))
            let again = try Self.fieldsim(["decode", "-"], stdin: Array(expected.utf8))
            #expect(again.status == 0)
        }
        let garbage = try Self.fieldsim(["decode", "-"], stdin: [0xFF, 0x00, 0x13])
        #expect(garbage.status == 2)
        #expect(garbage.error.contains("not a FieldSync message"))
        #expect(try Self.fieldsim(["decode", "/nonexistent/file"]).status == 64)
    }

    @Test("demo runs a small fleet to its verdict and ends quietly: nothing on standard error, not even while the server shuts down",
          .timeLimit(.minutes(30)))
    func demoEndsQuietly() throws {
        let run = try Self.fieldsim(["demo", "--devices", "2", "--days", "1"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Verdict: converged"), "\(run.output)")
        #expect(run.error.isEmpty, "\(run.error)")
    }

    @Test("demo --keep serves the simulated week with the clock going on in real time: a console that spent its request budget gets it back",
          .timeLimit(.minutes(30)))
    func demoKeepsServing() async throws {
        let process = Process()
        process.executableURL = DevServer.built("fieldsim")
        process.arguments = ["demo", "--keep", "--devices", "2", "--days", "1"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.interrupt() } }
        var text = ""
        let deadline = ContinuousClock.now + .seconds(240)
        while !text.contains("Press Ctrl-C"), ContinuousClock.now < deadline, process.isRunning {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        let link = try #require(text.split(whereSeparator: \.isWhitespace).first { $0.contains("/console/#token=") }, "\(text)")
        let base = String(link.prefix { $0 != "#" }.dropLast("/console/".count))
        let token = String(link.split(separator: "=", maxSplits: 1)[1])
        func team() async throws -> UInt {
            var request = HTTPClientRequest(url: base + "/v1/office/team")
            request.headers.add(name: "Authorization", value: "Bearer " + token)
            return try await HTTPClient.shared.execute(request, timeout: .seconds(30)).status.code
        }
        // An office read costs 5 of a burst of 200, regained at 20 a second: reading fast spends it
        // (about the 41st read is refused, later on a slow machine); two seconds later reads pass again.
        var statuses: [UInt] = []
        while statuses.last != 429, statuses.count < 1_000 { statuses.append(try await team()) }
        #expect(statuses.count >= 40 && statuses.last == 429, "\(statuses.count) reads: \(Set(statuses))")
        try await Task.sleep(for: .seconds(2))
        #expect(try await team() == 200, "the budget comes back with time")
        process.interrupt()
    }
}
