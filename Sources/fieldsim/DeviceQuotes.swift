import ArgumentParser
import DeviceStore
import Foundation

extension DeviceCommand {
    /// `fieldsim device quote …`: the rep's quotes (报价单), made, copied and converted offline.
    struct Quote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Quotes: create, add-line, move (sent, accepted, declined, cancelled), copy, convert.",
                                                        subcommands: [Create.self, AddLine.self, Move.self, Copy.self, Convert.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Start a quote for a customer, priced from the list in force today.")
            @OptionGroup var common: Common
            @Option(help: "The customer's id.") var customer: String
            @Option(help: "Days it is valid (1 to 365).") var days = 30
            @Option(help: "A note for the customer.") var note: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.createQuote(customer: try DeviceCommand.id(customer, "--customer"), validDays: days, note: note), store)
                }, text: DeviceCommand.reportText("created quote"))
            }
        }

        struct AddLine: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "add-line", abstract: "Add a line to a quote (a draft or sent one).")
            @OptionGroup var common: Common
            @Argument(help: "The quote's id.") var quote: String
            @Option(help: "The product's id.") var product: String
            @Option(help: "How many units.") var quantity: Int64
            @Option(help: "The discount in basis points (150 = 1.5 %).") var discountBp: Int64 = 0
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.addQuoteLine(quote: try DeviceCommand.id(quote, "the quote"), product: try DeviceCommand.id(product, "--product"),
                                                                               quantity: quantity, discountBP: discountBp), store)
                }, text: DeviceCommand.reportText("added line"))
            }
        }

        struct Move: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Move a quote: sent, accepted, declined, cancelled.")
            @OptionGroup var common: Common
            @Argument(help: "The quote's id.") var quote: String
            @Argument(help: "The new status.") var status: String
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.moveQuote(try DeviceCommand.id(quote, "the quote"), to: status), store)
                }, text: DeviceCommand.reportText("moved quote"))
            }
        }

        struct Copy: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Copy a quote into a new draft with its lines.")
            @OptionGroup var common: Common
            @Argument(help: "The quote's id.") var quote: String
            @Option(help: "Days the copy is valid (1 to 365).") var days = 30
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.copyQuote(try DeviceCommand.id(quote, "the quote"), validDays: days), store)
                }, text: DeviceCommand.reportText("copied quote"))
            }
        }

        struct Convert: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Convert a quote into a draft order that names it and carries its lines.")
            @OptionGroup var common: Common
            @Argument(help: "The quote's id.") var quote: String
            @Option(help: "The visit's id.") var visit: String?
            func run() async throws {
                try await DeviceCommand.run(common, { _, _, store in
                    try await DeviceCommand.report(try await store.convertQuote(try DeviceCommand.id(quote, "the quote"), visit: try visit.map { try DeviceCommand.id($0, "--visit") }),
                                                   store)
                }, text: DeviceCommand.reportText("created order"))
            }
        }
    }
}
