import ProtocolDocuments
import DemoData
import Foundation
import SyncCore
import Testing

@testable import SyncWire

/// The golden files pin the protocol: the spec, the code and every other implementation must agree
/// with them byte for byte.
@Suite("Golden messages")
struct GoldenMessageTests {
    @Test("each .bin decodes to its .json, and each .json encodes to its .bin", arguments: ProtocolExamples.all.map(\.name))
    func golden(name: String) throws {
        let message = try #require(ProtocolExamples.all.first { $0.name == name }?.message)
        let binary = try [UInt8](Data(contentsOf: Fixtures.protocolMessages.appendingPathComponent("\(name).bin")))
        let json = try String(contentsOf: Fixtures.protocolMessages.appendingPathComponent("\(name).json"), encoding: .utf8)

        let fromBinary = try Frame.decode(binary)
        #expect(fromBinary == message)
        #expect(Frame.json(fromBinary).printed == json, "binary → JSON")

        let fromJSON = try Frame.decode(json: Array(json.utf8))
        #expect(fromJSON == message)
        #expect(try Frame.encode(fromJSON, compress: false) == binary, "JSON → binary")
    }

    @Test("compressed frames carry the same message", arguments: ProtocolExamples.all.map(\.name))
    func compressed(name: String) throws {
        let message = try #require(ProtocolExamples.all.first { $0.name == name }?.message)
        let frame = try Frame.encode(message, compress: true)
        #expect(frame[3] == 1)
        #expect(try Frame.decode(frame) == message)
    }

    @Test("a JSON message with a field this version does not define is refused, naming it")
    func unknownField() throws {
        let json = try String(contentsOf: Fixtures.protocolMessages.appendingPathComponent("register_request.json"), encoding: .utf8)
        let extra = json.replacingOccurrences(of: "\"platform\": \"fieldsim\"", with: "\"platform\": \"fieldsim\",\n    \"favourite_colour\": \"teal\"")
        let error = #expect(throws: WireError.self) { try Frame.decode(json: Array(extra.utf8)) }
        #expect(error?.code == .unknownField)
        #expect(error?.message.contains("favourite_colour") == true)
    }

    /// Issue 15: `encoding.md` says null reads as absent, so a null value may carry `"value": null`.
    @Test("a null field value written with \"value\": null reads as null")
    func nullWithValue() throws {
        let change = Change(id: ChangeID(RecordID(high: 1, low: 1)), table: "customers", record: RecordID(high: 2, low: 2),
                            operation: .write([FieldWrite("phone", .null)]), version: Version(clock: HLC(milliseconds: 1), replica: ReplicaID(1)))
        let message = Message.pushRequest(PushRequest(batch: RecordID(high: 3, low: 3), changeSets: [ChangeSet(id: ChangeID(RecordID(high: 4, low: 4)), changes: [change])]))
        let json = Frame.json(message).printed
        let explicit = json.replacingOccurrences(of: "\"kind\": \"null\"", with: "\"kind\": \"null\", \"value\": null")
        #expect(explicit != json)
        #expect(try Frame.decode(json: Array(explicit.utf8)) == message)
    }

    @Test("another protocol version is refused as such, in both forms")
    func version() throws {
        var binary = try Frame.encode(ProtocolExamples.all[0].message, compress: false)
        binary[2] = 2
        #expect((#expect(throws: WireError.self) { try Frame.decode(binary) })?.code == .unsupportedVersion)
        let json = Frame.json(ProtocolExamples.all[0].message).printed.replacingOccurrences(of: "\"protocol\": 1", with: "\"protocol\": 2")
        #expect((#expect(throws: WireError.self) { try Frame.decode(json: Array(json.utf8)) })?.code == .unsupportedVersion)
    }
}

@Suite("Limits")
struct LimitTests {
    func frame(_ payload: [UInt8]) -> [UInt8] { [0x46, 0x53, 1, 0] + payload }

    @Test("a count over its limit is refused before anything is allocated")
    func countOverLimit() {
        // push_request: type 2, a batch id, then a change-set count of 2^62.
        var payload: [UInt8] = [2] + Array(repeating: 0, count: 16)
        payload += [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]
        let error = #expect(throws: WireError.self) { try Frame.decode(frame(payload)) }
        #expect(error?.code == .limitExceeded)
    }

    @Test("a count under the limit that the bytes cannot hold is malformed, not an allocation")
    func countPastTheEnd() {
        let payload: [UInt8] = [2] + Array(repeating: 0, count: 16) + [0xF4, 0x03]  // 500 change sets, no bytes
        let error = #expect(throws: WireError.self) { try Frame.decode(frame(payload)) }
        #expect(error?.code == .malformed)
    }

    @Test("a text value over the limit, a frame over the body limit, and a compression bomb are refused")
    func sizes() throws {
        let long = String(repeating: "x", count: WireLimits.tokenBytesMax + 1)
        let request = Message.registerRequest(RegisterRequest(installation: RecordID(high: 1, low: 1), appVersion: long, platform: "p", schemaRevision: 1))
        #expect((#expect(throws: WireError.self) { try Frame.decode(try Frame.encode(request)) })?.code == .limitExceeded)
        #expect((#expect(throws: WireError.self) { try Frame.decode([UInt8](repeating: 0, count: WireLimits.bodyBytesMax + 1)) })?.code == .compressedTooLarge)
        let bomb = [0x46, 0x53, 1, 1] + (try Deflate.compress([UInt8](repeating: 0, count: WireLimits.inflatedBytesMax + 1)))
        #expect((#expect(throws: WireError.self) { try Frame.decode(bomb) })?.code == .inflatedTooLarge)
    }

    @Test("more changes in a push than allowed, over all change sets, is refused")
    func changesPerPush() throws {
        let change = Change(id: ChangeID(RecordID(high: 1, low: 1)), table: "t", record: RecordID(high: 2, low: 2), operation: .delete,
                            version: Version(clock: HLC(milliseconds: 1), replica: ReplicaID(1)))
        let sets = (0..<3).map { _ in ChangeSet(id: ChangeID(RecordID(high: 3, low: 3)), changes: Array(repeating: change, count: WireLimits.changesPerPushMax / 2)) }
        let push = Message.pushRequest(PushRequest(batch: RecordID(high: 4, low: 4), changeSets: sets))
        #expect((#expect(throws: WireError.self) { try Frame.decode(try Frame.encode(push)) })?.code == .limitExceeded)
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test("strict JSON parses and prints back", arguments: [
        "{\"a\": [1, -2.5e3, true, false, null, \"\\u00e9\\n\\\"\"], \"b\": {}}", "[]", "\"\\ud83d\\ude9a\"", "0", "-0.0",
    ])
    func valid(text: String) throws {
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(try JSONValue.parse(Array(value.printed.utf8)) == value)
    }

    @Test("anything else is malformed", arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "01", "1.", ".5", "1e", "+1", "\"\\x\"", "\"\\ud800\"", "\"a\nb\"",
        "{\"a\":1,\"a\":2}", "nul", "[1] 2", "{a:1}", "'a'", "NaN",
    ])
    func invalid(text: String) {
        #expect(throws: WireError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test("nesting past the limit is refused")
    func nesting() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect((#expect(throws: WireError.self) { try JSONValue.parse(Array(deep.utf8)) })?.code == .limitExceeded)
    }
}
