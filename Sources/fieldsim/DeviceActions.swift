import ArgumentParser
import DeviceStore
import FieldModel
import Foundation
import SyncCore
import SyncWire

/// The phone's actions, each one local transaction (and one change set in the outbox).
extension DeviceCommand {
    /// Where the phone is: `--lat`/`--lng` in degrees, else the visit's store (as if standing at it), `--north` meters off.
    struct Place: ParsableArguments {
        @Option(help: "Latitude in degrees (default: the store's).")
        var lat: Double?
        @Option(help: "Longitude in degrees (default: the store's).")
        var lng: Double?
        @Option(help: "Move the fix this many meters north of the store (to try the geofence).")
        var north: Double = 0
        @Option(help: "The fix's accuracy in meters.")
        var accuracy = 15
        @Flag(help: "The OS reports a mock location.")
        var mock = false

        func fix(for visit: RecordID, store: DeviceStore) async throws -> Geofence.Fix {
            guard let visitState = try await store.record("visits", visit) else { throw CLIError(.refused, "no visit \(visit.uuidString) on this phone") }
            return try await fix(atCustomer: visitState.id("customer_id") ?? visit, store: store)
        }

        /// A fix at (or near, or where told) the customer's store.
        func fix(atCustomer customerID: RecordID, store: DeviceStore) async throws -> Geofence.Fix {
            var coordinate: Coordinate
            if let lat, let lng {
                coordinate = Coordinate(latitude: lat, longitude: lng)
            } else {
                guard let customer = try await store.record("customers", customerID),
                      let latE6 = customer.integer("latitude_e6"), let lngE6 = customer.integer("longitude_e6") else {
                    throw CLIError(.usage, "the store has no location: pass --lat and --lng")
                }
                coordinate = Coordinate(latitudeE6: latE6, longitudeE6: lngE6)
            }
            coordinate.latitudeE6 += Int64((north / 111_195 * 1e6).rounded())
            return Geofence.Fix(coordinate: coordinate, accuracyMeters: accuracy, deviceTime: Int64(Date().timeIntervalSince1970 * 1000), mockLocation: mock)
        }
    }

    struct CheckIn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check-in", abstract: "Check in at a visit (outside the geofence it is recorded, with a warning).")
        @OptionGroup var common: Common
        @Argument(help: "The visit's id.") var visit: String
        @OptionGroup var place: Place
        @Option(help: "A photo to keep with the check-in (a JPEG, PNG, WebP, HEIC or PDF file of at most 16 MiB); repeatable. It uploads after the check-in syncs.")
        var photo: [String] = []

        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                let visit = try DeviceCommand.id(self.visit, "the visit")
                let photos = try photo.map { try DeviceCommand.attachment($0, kind: .photo) }
                return try await DeviceCommand.report(try await store.checkIn(visit: visit, fix: try await place.fix(for: visit, store: store), photos: photos), store)
            }, text: DeviceCommand.reportText("checked in at"))
        }
    }

    struct CheckOut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check-out", abstract: "Check out of a visit in progress.")
        @OptionGroup var common: Common
        @Argument(help: "The visit's id.") var visit: String
        @OptionGroup var place: Place

        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                let visit = try DeviceCommand.id(self.visit, "the visit")
                return try await DeviceCommand.report(try await store.checkOut(visit: visit, fix: try await place.fix(for: visit, store: store)), store)
            }, text: DeviceCommand.reportText("checked out of"))
        }
    }

    struct Complete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Complete a visit, with task results (TASK=RESULT, repeatable).")
        @OptionGroup var common: Common
        @Argument(help: "The visit's id.") var visit: String
        @Option(help: "A task's result, TASK_ID=text.") var task: [String] = []

        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                var results: [RecordID: String] = [:]
                for entry in task {
                    let parts = entry.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { throw CLIError(.usage, "--task is TASK_ID=result") }
                    results[try DeviceCommand.id(String(parts[0]), "a task")] = String(parts[1])
                }
                return try await DeviceCommand.report(try await store.completeVisit(visit: try DeviceCommand.id(visit, "the visit"), taskResults: results), store)
            }, text: DeviceCommand.reportText("completed"))
        }
    }

    struct Order: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Orders: create, repeat, add-line, update-line, submit, reopen, cancel.",
                                                        subcommands: [Create.self, Repeat.self, AddLine.self, UpdateLine.self, Submit.self, Reopen.self, Cancel.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Start a draft order for a customer (in a visit, optionally).")
            @OptionGroup var common: Common
            @Option(help: "The customer's id.") var customer: String
            @Option(help: "The visit's id.") var visit: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.createOrder(customer: try DeviceCommand.id(customer, "--customer"),
                                                                              visit: try visit.map { try DeviceCommand.id($0, "--visit") }), store)
                }, text: DeviceCommand.reportText("created order"))
            }
        }

        struct Repeat: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Start a draft with the lines of the customer's latest confirmed order (no discounts).")
            @OptionGroup var common: Common
            @Option(help: "The customer's id.") var customer: String
            @Option(help: "The visit's id.") var visit: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.repeatLastOrder(customer: try DeviceCommand.id(customer, "--customer"),
                                                                                  visit: try visit.map { try DeviceCommand.id($0, "--visit") }), store)
                }, text: DeviceCommand.reportText("created order"))
            }
        }

        struct UpdateLine: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "update-line", abstract: "Change a line of a draft (or reopened) order.")
            @OptionGroup var common: Common
            @Argument(help: "The line's id.") var line: String
            @Option(help: "How many units.") var quantity: Int64
            @Option(help: "The discount in basis points (150 = 1.5 %).") var discountBp: Int64 = 0
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.updateOrderLine(try DeviceCommand.id(line, "the line"), quantity: quantity, discountBP: discountBp), store)
                }, text: DeviceCommand.reportText("changed line"))
            }
        }

        struct Reopen: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Reopen an order a manager rejected: a draft again, to fix and submit.")
            @OptionGroup var common: Common
            @Argument(help: "The order's id.") var order: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.reopenOrder(try DeviceCommand.id(order, "the order")), store)
                }, text: DeviceCommand.reportText("reopened order"))
            }
        }

        struct AddLine: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "add-line", abstract: "Add a line to a draft order.")
            @OptionGroup var common: Common
            @Argument(help: "The order's id.") var order: String
            @Option(help: "The product's id.") var product: String
            @Option(help: "How many units.") var quantity: Int64
            @Option(help: "The discount in basis points (150 = 1.5 %).") var discountBp: Int64 = 0
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    let (orderID, productID) = (try DeviceCommand.id(order, "the order"), try DeviceCommand.id(product, "--product"))
                    var answer = try await DeviceCommand.report(try await store.addOrderLine(order: orderID, product: productID, quantity: quantity, discountBP: discountBp), store)
                    // The price this customer paid last time, which the rep quotes from.
                    if case .id(let customer)? = try await store.record("sales_orders", orderID)?.fields["customer_id"]?.value,
                       let last = try await store.lastPrice(customer: customer, product: productID), case .object(var members) = answer {
                        members.append(.init("last_price_minor", .integer(last.unitPriceMinor)))
                        members.append(.init("last_ordered_at", .integer(last.orderedAt)))
                        answer = .object(members)
                    }
                    return answer
                }, text: { answer in
                    var text = DeviceCommand.reportText("added line")(answer)
                    if case .number(let price)? = answer["last_price_minor"] {
                        let at = answer["last_ordered_at"].flatMap { if case .number(let text) = $0 { Int64(text) } else { nil } }
                        text += "\n  last price for this customer: \(price) (minor units), ordered \(Output.time(at))"
                    }
                    return text
                })
            }
        }

        struct Submit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Submit a draft order (the server prices it and routes it on arrival).")
            @OptionGroup var common: Common
            @Argument(help: "The order's id.") var order: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    let id = try DeviceCommand.id(order, "the order")
                    var answer = try await DeviceCommand.report(try await store.submitOrder(id), store)
                    if case .object(var members) = answer {
                        members.append(.init("preview_total_minor", .number(String(try await store.orderPreview(id).totalMinor))))
                        answer = .object(members)
                    }
                    return answer
                }, text: DeviceCommand.reportText("submitted order"))
            }
        }

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Cancel an order before it is released to the ERP.")
            @OptionGroup var common: Common
            @Argument(help: "The order's id.") var order: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.cancelOrder(try DeviceCommand.id(order, "the order")), store)
                }, text: DeviceCommand.reportText("cancelled order"))
            }
        }
    }

    struct AdHoc: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ad-hoc", abstract: "Start an unplanned visit at a customer, checked in where you stand.")
        @OptionGroup var common: Common
        @Option(help: "The customer's id.") var customer: String
        @Option(help: "The visit type.") var type = "ad_hoc"
        @OptionGroup var place: Place
        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                let customer = try DeviceCommand.id(self.customer, "--customer")
                return try await DeviceCommand.report(try await store.startAdHocVisit(customer: customer, fix: try await place.fix(atCustomer: customer, store: store),
                                                                                     visitType: type), store)
            }, text: DeviceCommand.reportText("started visit"))
        }
    }

    struct ShelfCount: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "shelf-count", abstract: "Record how many of a product the store's shelf holds (库存上报), during a visit.")
        @OptionGroup var common: Common
        @Argument(help: "The visit's id.") var visit: String
        @Option(help: "The product's id.") var product: String
        @Option(help: "How many are on the shelf (0: out of stock).") var quantity: Int64
        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                try await DeviceCommand.report(try await store.recordShelfCount(visit: try DeviceCommand.id(visit, "the visit"), product: try DeviceCommand.id(product, "--product"),
                                                                               quantity: quantity, countedAt: Int64(Date().timeIntervalSince1970 * 1000)), store)
            }, text: DeviceCommand.reportText("counted"))
        }
    }

    struct OutOfStock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "out-of-stock", abstract: "The products a store's shelf was empty of at their latest count.")
        @OptionGroup var common: Common
        @Argument(help: "The customer's (store's) id.") var customer: String
        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                JSONValue.array(try await store.outOfStock(customer: try DeviceCommand.id(customer, "the customer")).map { item in
                    JSONValue.fields([("product", .string(item.product.uuidString)), ("sku", .text(item.sku)), ("name", .string(item.name)),
                                      ("counted_at", .integer(item.countedAt)), ("visit", .string(item.visit.uuidString))])
                })
            }, text: { answer in
                guard case .array(let items) = answer, !items.isEmpty else { return "nothing out of stock at the latest counts" }
                return items.map { "\($0["sku"]?.string ?? "")  \($0["name"]?.string ?? "")  counted empty \(Output.time($0["counted_at"].flatMap { if case .number(let text) = $0 { Int64(text) } else { nil } }))" }
                    .joined(separator: "\n")
            })
        }
    }

    struct Payment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a payment against an order (several per order).")
        @OptionGroup var common: Common
        @Argument(help: "The order's id.") var order: String
        @Option(help: "The amount in minor units (cents).") var amount: Int64
        @Option(help: "cash, card, transfer or cheque.") var method = "cash"
        @Option(help: "The receipt number.") var receipt: String
        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                try await DeviceCommand.report(try await store.recordPayment(order: try DeviceCommand.id(order, "the order"), amountMinor: amount, method: method,
                                                                            receiptNumber: receipt, collectedAt: Int64(Date().timeIntervalSince1970 * 1000)), store)
            }, text: DeviceCommand.reportText("recorded payment"))
        }
    }

    struct WorkOrder: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "work-order", abstract: "A technician's work orders: move, arrive, steps, step, part, resolve, rate.",
                                                        subcommands: [Move.self, Arrive.self, Steps.self, Step.self, Meter.self, Part.self, Resolve.self, Rate.self])

        struct Steps: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The work order's checklist, each step with its latest answer.")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    .array(try await store.workOrderSteps(try DeviceCommand.id(workOrder, "the work order")).map { step in
                        let answer: String? = step.answer.flatMap { answer in
                            answer.yesNo.map { $0 ? "yes" : "no" } ?? answer.number.map(String.init) ?? answer.text ?? answer.photo.map { "photo \($0.uuidString)" }
                        }
                        return JSONValue.fields([("id", .string(step.id.uuidString)), ("label", .string(step.label)), ("answer_kind", .string(step.answerKind)),
                                                 ("required", .bool(step.required)), ("min_value", step.minValue.map { .number(String($0)) } ?? .null),
                                                 ("max_value", step.maxValue.map { .number(String($0)) } ?? .null), ("answer", .text(answer))])
                    })
                }, text: { answer in
                    guard case .array(let steps) = answer, !steps.isEmpty else { return "no checklist for this work order's type" }
                    return steps.map { step in
                        let mark = step["answer"]?.string == nil ? (step["required"] == .bool(true) ? "[ ] required" : "[ ]") : "[x]"
                        return "\(mark)  \(step["label"]?.string ?? "") (\(step["answer_kind"]?.string ?? ""))  \(step["answer"]?.string ?? "")  \(step["id"]?.string ?? "")"
                    }.joined(separator: "\n")
                })
            }
        }

        struct Step: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Answer a checklist step: --yes, --no, --number N, --text T or --photo FILE.")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Argument(help: "The step's id (see work-order steps).") var step: String
            @Flag(help: "Yes.") var yes = false
            @Flag(help: "No.") var no = false
            @Option(help: "A number.") var number: Int64?
            @Option(help: "A text.") var text: String?
            @Option(help: "A photo (an image file of at most 16 MiB).") var photo: String?
            func validate() throws {
                guard [yes, no, number != nil, text != nil, photo != nil].filter({ $0 }).count == 1 else {
                    throw ValidationError("give one answer: --yes, --no, --number, --text or --photo")
                }
            }
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    let answer = ServiceSteps.Answer(yesNo: yes ? true : no ? false : nil, number: number, text: text)
                    let file = try photo.map { try DeviceCommand.attachment($0, kind: .photo) }
                    return try await DeviceCommand.report(try await store.answerStep(workOrder: try DeviceCommand.id(workOrder, "the work order"),
                                                                                    step: try DeviceCommand.id(step, "the step"), answer: answer, photo: file,
                                                                                    at: Int64(Date().timeIntervalSince1970 * 1000)), store)
                }, text: DeviceCommand.reportText("answered"))
            }
        }

        struct Meter: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Read the meter of the work order's asset (maintenance plans by meter forecast from it).")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Argument(help: "The meter's name (e.g. hours).") var meter: String
            @Argument(help: "The reading, in the meter's units.") var reading: Int64
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.readMeter(workOrder: try DeviceCommand.id(workOrder, "the work order"), meter: meter, reading: reading,
                                                                            at: Int64(Date().timeIntervalSince1970 * 1000)), store)
                }, text: DeviceCommand.reportText("read meter"))
            }
        }

        struct Move: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Move a work order: en_route, on_site, completed, cannot_complete.")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Argument(help: "The new status.") var status: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.moveWorkOrder(try DeviceCommand.id(workOrder, "the work order"), to: status,
                                                                                at: Int64(Date().timeIntervalSince1970 * 1000)), store)
                }, text: DeviceCommand.reportText("moved work order"))
            }
        }

        struct Part: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Log a part used from a stock location (the van).")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Option(help: "The product's id.") var product: String
            @Option(help: "How many.") var quantity: Int64
            @Option(help: "The stock location's id (the van).") var from: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.recordPartUsed(workOrder: try DeviceCommand.id(workOrder, "the work order"),
                                                                                 product: try DeviceCommand.id(product, "--product"), quantity: quantity,
                                                                                 from: try DeviceCommand.id(from, "--from"), at: Int64(Date().timeIntervalSince1970 * 1000)), store)
                }, text: DeviceCommand.reportText("logged part"))
            }
        }

        struct Resolve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set a work order's resolution, with the customer's signature.")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Argument(help: "What was done.") var resolution: String
            @Option(help: "The customer's signature (an image file of at most 16 MiB). It uploads after the work order syncs.")
            var signature: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    let signature = try self.signature.map { try DeviceCommand.attachment($0, kind: .signature) }
                    return try await DeviceCommand.report(try await store.setResolution(workOrder: try DeviceCommand.id(workOrder, "the work order"), resolution: resolution,
                                                                                         signature: signature), store)
                }, text: DeviceCommand.reportText("resolved"))
            }
        }

        struct Arrive: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Arrive on site: the work order moves to on_site with where you stand (judged like a check-in).")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @OptionGroup var place: Place
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    let id = try DeviceCommand.id(workOrder, "the work order")
                    guard let customer = try await store.record("work_orders", id)?.id("customer_id") else {
                        throw CLIError(.refused, "no work order \(id.uuidString) on this phone")
                    }
                    return try await DeviceCommand.report(try await store.arriveOnSite(id, fix: try await place.fix(atCustomer: customer, store: store)), store)
                }, text: DeviceCommand.reportText("arrived at"))
            }
        }

        struct Rate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Record the customer's rating of the service (1–5 stars) and comment, on site or at completion.")
            @OptionGroup var common: Common
            @Argument(help: "The work order's id.") var workOrder: String
            @Option(help: "1 to 5 stars (1 or 2 opens an exception for the office).") var stars: Int64
            @Option(help: "What the customer said.") var comment: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.rateWorkOrder(try DeviceCommand.id(workOrder, "the work order"), stars: stars, comment: comment), store)
                }, text: DeviceCommand.reportText("rated"))
            }
        }
    }

    struct Customer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Customers: new, edit.", subcommands: [New.self, Edit.self])

        struct New: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a customer in one of your territories (the server de-duplicates it on arrival).")
            @OptionGroup var common: Common
            @Option(help: "The name.") var name: String
            @Option(help: "The territory's id.") var territory: String
            @Option(help: "The phone number.") var phone: String?
            @Option(help: "The street address.") var street: String?
            @Option(help: "The city.") var city: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.createCustomer(name: name, territory: try DeviceCommand.id(territory, "--territory"),
                                                                                 phone: phone, streetAddress: street, city: city), store)
                }, text: DeviceCommand.reportText("created customer"))
            }
        }

        struct Edit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Correct a customer's contact data (a moved location goes to review).")
            @OptionGroup var common: Common
            @Argument(help: "The customer's id.") var customer: String
            @Option(help: "FIELD=VALUE: name, phone, tax_number, street_address, city, postal_code; repeatable.") var set: [String] = []
            @Option(help: "A new latitude in degrees.") var lat: Double?
            @Option(help: "A new longitude in degrees.") var lng: Double?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    var corrections: [String: FieldValue] = [:]
                    for entry in set {
                        let parts = entry.split(separator: "=", maxSplits: 1)
                        guard parts.count == 2 else { throw CLIError(.usage, "--set is FIELD=VALUE") }
                        corrections[String(parts[0])] = .text(String(parts[1]))
                    }
                    if let lat, let lng {
                        let point = Coordinate(latitude: lat, longitude: lng)
                        corrections["latitude_e6"] = .integer(point.latitudeE6)
                        corrections["longitude_e6"] = .integer(point.longitudeE6)
                    }
                    return try await DeviceCommand.report(try await store.correctCustomer(try DeviceCommand.id(customer, "the customer"), corrections), store)
                }, text: DeviceCommand.reportText("corrected customer"))
            }
        }
    }
}
