import DemoData
import Foundation
import SyncCore
import Testing

@testable import DemoData

@Suite("DemoGenerator")
struct DemoGeneratorTests {
    @Test("the committed Fixtures/demo/ is exactly what the committed seed generates")
    func committedBytes() throws {
        let generated = DemoGenerator(seed: DemoGenerator.committedSeed).generate()
        let order = try String(contentsOf: Fixtures.demo.appendingPathComponent("tables.txt"), encoding: .utf8)
        #expect(order == generated.tables.map(\.name).joined(separator: "\n") + "\n")
        for table in generated.tables {
            let committed = try Data(contentsOf: Fixtures.demo.appendingPathComponent("\(table.name).tsv"))
            #expect(committed == Data(table.fileContents.utf8), "\(table.name).tsv differs: run `swift run fieldsim fixtures demo`")
        }
    }

    @Test("the same seed gives the same data; another seed gives other data")
    func deterministic() {
        #expect(DemoGenerator(seed: 5).generate() == DemoGenerator(seed: 5).generate())
        #expect(DemoGenerator(seed: 5).generate() != DemoGenerator(seed: 6).generate())
    }

    @Test("the data set has the sizes the demo promises")
    func sizes() throws {
        let data = DemoGenerator().generate()
        let counts = Dictionary(uniqueKeysWithValues: data.tables.map { ($0.name, $0.rows.count) })
        #expect(counts["tenants"] == 1)
        #expect(counts["territories"] == 3)
        #expect(counts["customers"] == 600)
        #expect(counts["products"] == 2_000)
        #expect(counts["price_lists"] == 2)
        #expect(counts["price_list_entries"] == 4_000)
        #expect(counts["assets"] == 100)
        #expect(counts["work_orders"] == 40)
        let roles = try #require(data["users"]).rows.map { $0[2]! }
        #expect(roles.filter { $0 == "rep" }.count == 6)
        #expect(roles.filter { $0 == "technician" }.count == 2)
        #expect(roles.filter { $0 == "dispatcher" }.count == 2)
        #expect(roles.filter { $0 == "manager" }.count == 1)
        // Two weeks of weekdays, each rep's 100 customers once a week.
        #expect(counts["visits"] == 2 * 6 * 100)
        let inclusive = try #require(data["price_lists"]).rows.map { $0[4] }
        #expect(inclusive.sorted { ($0 ?? "") < ($1 ?? "") } == ["false", "true"])
    }

    @Test("every id is a UUIDv7 and every reference points to an earlier row")
    func references() throws {
        let data = DemoGenerator().generate()
        var known = Set<String>()
        for table in data.tables {
            for row in table.rows {
                for (column, cell) in zip(table.columns, row) where column.hasSuffix("_id") {
                    if let cell, !known.contains(cell) {
                        Issue.record("\(table.name).\(column) points to a row not defined before it")
                    }
                }
                if table.columns.first == "id", let id = row[0] {
                    #expect(RecordID(id) != nil)
                    known.insert(id)
                }
            }
        }
    }

    @Test("customers lie on Manhattan, in their territory's band of streets")
    func geography() throws {
        let customers = try #require(DemoGenerator().generate()["customers"])
        let latitude = customers.columns.firstIndex(of: "latitude")!
        let longitude = customers.columns.firstIndex(of: "longitude")!
        for row in customers.rows {
            let lat = try #require(Double(row[latitude]!))
            let lng = try #require(Double(row[longitude]!))
            #expect((40.70...40.83).contains(lat) && (-74.03 ... -73.92).contains(lng), "\(lat), \(lng)")
        }
    }

    @Test("the file format escapes and reads back every awkward cell")
    func fileFormat() throws {
        var table = DemoDataSet.Table(name: "t", columns: ["a", "b"])
        table.append(["tab\there", nil])
        table.append(["back\\slash\nnew line\rreturn", ""])
        table.append(["\\N literally", "Ünïcödé 🚚"])
        let parsed = try DemoDataSet.Table(name: "t", fileContents: table.fileContents)
        #expect(parsed == table)
        #expect(throws: DemoDataError.self) { try DemoDataSet.Table(name: "t", fileContents: "a\tb\nonly-one\n") }
    }
}
