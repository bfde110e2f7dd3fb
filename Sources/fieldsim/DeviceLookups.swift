import ArgumentParser
import DeviceStore
import SyncClient
import SyncCore
import SyncWire

/// `fieldsim device customers|products|visit|fetch`: what a rep looks up on the phone, so that QA
/// never needs `sqlite3` to find an id; `fetch` brings back a record past the phone's window.
extension DeviceCommand {
    /// What a list looks for, and how many it shows.
    struct Lookup: ParsableArguments {
        @Option(help: "Text the names (or codes, phones, tax numbers) contain, in any case.") var search: String?
        @Option(help: "The most rows to list.") var limit = 50

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
        }
    }

    struct Customers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the customers on the phone, by name; --search matches name, phone or tax number.")
        @OptionGroup var common: Common
        @OptionGroup var lookup: Lookup

        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                .array(try await store.customers(search: lookup.search, limit: lookup.limit).map { customer in
                    JSONValue.fields([("id", .string(customer.id.uuidString)), ("name", .string(customer.name)), ("phone", .text(customer.phone)),
                                      ("city", .text(customer.city)), ("tax_number", .text(customer.taxNumber)), ("status", .text(customer.status))])
                })
            }, text: { answer in
                guard case .array(let customers) = answer, !customers.isEmpty else { return "no customers match" }
                return customers.map { customer in
                    "\(customer["id"]?.string ?? "")  \(customer["name"]?.string ?? "")  \(customer["phone"]?.string ?? "-")  \(customer["city"]?.string ?? "-")"
                }.joined(separator: "\n")
            })
        }
    }

    struct Products: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the catalogue's products, by name; --search matches name or code.")
        @OptionGroup var common: Common
        @OptionGroup var lookup: Lookup

        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                .array(try await store.products(search: lookup.search, limit: lookup.limit).map { product in
                    JSONValue.fields([("id", .string(product.id.uuidString)), ("sku", .string(product.sku)), ("name", .string(product.name)),
                                      ("unit", .text(product.unit)), ("active", .bool(product.active))])
                })
            }, text: { answer in
                guard case .array(let products) = answer, !products.isEmpty else { return "no products match" }
                return products.map { product in
                    "\(product["id"]?.string ?? "")  \(product["sku"]?.string ?? "")  \(product["name"]?.string ?? "")"
                        + (product["active"] == .bool(false) ? "  (inactive)" : "")
                }.joined(separator: "\n")
            })
        }
    }

    struct Visit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a visit: its customer, status, times and tasks.")
        @OptionGroup var common: Common
        @Argument(help: "The visit's id.") var visit: String

        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                let id = try DeviceCommand.id(visit, "the visit")
                guard let detail = try await store.visit(id) else {
                    throw CLIError(.refused, "the phone holds no visit \(id.uuidString); if it is older than the phone's window, `fieldsim device fetch visits \(id.uuidString)` brings it back")
                }
                let summary = detail.summary
                return JSONValue.fields([
                    ("id", .string(summary.id.uuidString)), ("status", .string(summary.status)), ("visit_type", .string(summary.visitType)),
                    ("planned_start", .integer(summary.plannedStart)), ("planned_end", .integer(summary.plannedEnd)),
                    ("instructions", .text(summary.instructions)), ("customer_id", .string(summary.customerID.uuidString)),
                    ("customer", .string(summary.customerName)), ("address", .text(summary.streetAddress)),
                    ("tasks", .array(detail.tasks.map { task in
                        var answer: JSONValue = .text(task.result)
                        if let yes = task.yesNo { answer = .string(yes ? "yes" : "no") }
                        if let number = task.numberValue { answer = .integer(number) }
                        if let photo = task.photo { answer = .string("photo \(photo.uuidString)") }
                        return JSONValue.fields([("id", .string(task.id.uuidString)), ("task_type", .string(task.taskType)), ("required", .bool(task.required)),
                                                 ("status", .string(task.status)), ("label", .text(task.label)), ("answer_kind", .text(task.answerKind)),
                                                 ("min_value", task.minValue.map { .integer($0) } ?? .null), ("max_value", task.maxValue.map { .integer($0) } ?? .null),
                                                 ("result", answer)])
                    })),
                ])
            }, text: { answer in
                let start = answer["planned_start"].flatMap { if case .number(let text) = $0 { Int64(text) } else { nil } }
                var lines = ["visit \(answer["id"]?.string ?? "")  \(answer["status"]?.string ?? "")  \(answer["visit_type"]?.string ?? "")  \(Output.time(start))",
                             "  customer \(answer["customer"]?.string ?? "") (\(answer["customer_id"]?.string ?? ""))  \(answer["address"]?.string ?? "")"]
                if let instructions = answer["instructions"]?.string { lines.append("  instructions: \(instructions)") }
                if case .array(let tasks)? = answer["tasks"] {
                    if tasks.isEmpty { lines.append("  no tasks") }
                    for task in tasks {
                        let required = task["required"] == .bool(true) ? "required" : "optional"
                        let question = task["label"]?.string.map { "  “\($0)” (\(task["answer_kind"]?.string ?? "text"))" } ?? ""
                        let result = task["result"].flatMap { value -> String? in value == .null ? nil : (value.string ?? DispatchCommand.plain(value)) }
                        lines.append("  task \(task["id"]?.string ?? "")  \(task["task_type"]?.string ?? "")\(question)  \(required)  \(task["status"]?.string ?? "")"
                                     + (result.map { "  \($0)" } ?? ""))
                    }
                }
                return lines.joined(separator: "\n")
            })
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back records past the phone's window (an old visit or order) from the server, with the rows under them; kept for a day.",
            discussion: "Example: fieldsim device fetch visits 019ad5c0-…  (then `fieldsim device visit 019ad5c0-…`)."
        )
        @OptionGroup var common: Common
        @Argument(help: "The table (visits, sales_orders, work_orders, contact_records, …).") var table: String
        @Argument(help: "The records' ids.") var ids: [String]

        func run() async throws {
            try await DeviceCommand.run(common, { home, config, store in
                let refs = try ids.map { RecordRef(table: table, record: try DeviceCommand.id($0, "the record")) }
                let answer = try await DeviceCommand.online(home, config, store) { try await $0.fetch(refs) }
                return JSONValue.fields([
                    ("fetched", .array(answer.snapshots.map { JSONValue.fields([("table", .string($0.ref.table)), ("id", .string($0.ref.record.uuidString))]) })),
                    ("missing", .array(answer.missing.map { JSONValue.fields([("table", .string($0.table)), ("id", .string($0.record.uuidString))]) })),
                ])
            }, text: { answer in
                var lines: [String] = []
                if case .array(let rows)? = answer["fetched"] {
                    lines.append("fetched \(rows.count) row(s), kept on the phone for a day:")
                    for row in rows { lines.append("  \(row["table"]?.string ?? "") \(row["id"]?.string ?? "")") }
                }
                if case .array(let rows)? = answer["missing"], !rows.isEmpty {
                    lines.append("not found, or not yours to see:")
                    for row in rows { lines.append("  \(row["table"]?.string ?? "") \(row["id"]?.string ?? "")") }
                }
                return lines.joined(separator: "\n")
            })
        }
    }
}
