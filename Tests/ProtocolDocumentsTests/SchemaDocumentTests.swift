import DemoData
import Foundation
import ProtocolDocuments
import SyncWire
import Testing

/// `SyncProtocol/schema.md` and `schema.json` are what the field model says (issue 15): a
/// stranger's client is built from them, so they may never drift from the code.
@Suite("Schema document")
struct SchemaDocumentTests {
    static let folder = Fixtures.directory.deletingLastPathComponent().appendingPathComponent("SyncProtocol")

    @Test("schema.md and schema.json are exactly what the field model generates (fieldsim fixtures schema rewrites them)")
    func inStep() throws {
        let markdown = try String(contentsOf: Self.folder.appendingPathComponent("schema.md"), encoding: .utf8)
        #expect(markdown == SchemaDocument.markdown(), "run: swift run fieldsim fixtures schema")
        let json = try JSONValue.parse(Array(try Data(contentsOf: Self.folder.appendingPathComponent("schema.json"))))
        #expect(json == SchemaDocument.json(), "run: swift run fieldsim fixtures schema")
    }

    @Test("the machine-readable twin names every table, field and state machine")
    func complete() throws {
        guard case .object(let members) = SchemaDocument.json(), case .array(let tables)? = members.first(where: { $0.key == "tables" })?.value else {
            Issue.record("no tables"); return
        }
        #expect(tables.count == 43)
        #expect(SchemaDocument.markdown().contains("## `geo_events`"))
        #expect(SchemaDocument.markdown().contains("`check_in`, `check_out`, `cancel`"))
    }
}
