import ArgumentParser
import DeviceStore
import SyncCore
import SyncWire

/// `fieldsim device customers|products|visit`: what a rep looks up on the phone, so that QA never
/// needs `sqlite3` to find an id.
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
                guard let detail = try await store.visit(id) else { throw CLIError(.refused, "the phone holds no visit \(id.uuidString)") }
                let summary = detail.summary
                return JSONValue.fields([
                    ("id", .string(summary.id.uuidString)), ("status", .string(summary.status)), ("visit_type", .string(summary.visitType)),
                    ("planned_start", .integer(summary.plannedStart)), ("planned_end", .integer(summary.plannedEnd)),
                    ("instructions", .text(summary.instructions)), ("customer_id", .string(summary.customerID.uuidString)),
                    ("customer", .string(summary.customerName)), ("address", .text(summary.streetAddress)),
                    ("tasks", .array(detail.tasks.map { task in
                        JSONValue.fields([("id", .string(task.id.uuidString)), ("task_type", .string(task.taskType)), ("required", .bool(task.required)),
                                          ("status", .string(task.status)), ("result", .text(task.result))])
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
                        lines.append("  task \(task["id"]?.string ?? "")  \(task["task_type"]?.string ?? "")  \(required)  \(task["status"]?.string ?? "")"
                                     + (task["result"]?.string.map { "  \($0)" } ?? ""))
                    }
                }
                return lines.joined(separator: "\n")
            })
        }
    }
}
