import Testing

@testable import SyncCore

@Suite("RecordID")
struct RecordIDTests {
    @Test("a UUIDv7 carries its version, variant and time, and round-trips through text")
    func layout() throws {
        var generator = SplitMix64(seed: 7)
        let id = RecordID.make(milliseconds: 1_764_547_200_000, using: &generator)
        let text = id.uuidString
        #expect(text.count == 36)
        #expect(Array(text)[14] == "7")
        #expect("89ab".contains(Array(text)[19]))
        #expect(id.milliseconds == 1_764_547_200_000)
        #expect(RecordID(text) == id)
        #expect(RecordID(text.uppercased()) == id)
    }

    @Test("ids made later sort later")
    func ordering() {
        var generator = SplitMix64(seed: 1)
        let ids = (0..<1_000).map { RecordID.make(milliseconds: 1_700_000_000_000 + UInt64($0), using: &generator) }
        #expect(ids.sorted() == ids)
        #expect(Set(ids).count == ids.count)
    }

    @Test("malformed text is refused", arguments: [
        "", "not-a-uuid", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2bb",
        "0190a1b2c3d47e5f8a6b7c8d9e0f1a2b0000", "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2g", "0190a1b2-c3d4+7e5f-8a6b-7c8d9e0f1a2b",
    ])
    func malformed(text: String) {
        #expect(RecordID(text) == nil)
    }

    @Test("the same seed gives the same sequence")
    func seeded() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var c = SplitMix64(seed: 0)
        // The published first output of SplitMix64 seeded with 0.
        #expect(c.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test("a derived id is the same for the same key, another for another, a version-8 UUID that round-trips through text")
    func derived() {
        let id = RecordID.derived(from: "plan|1803859200000")
        #expect(id == RecordID.derived(from: "plan|1803859200000") && id != RecordID.derived(from: "plan|1803859200001"))
        #expect((id.high >> 12) & 0xF == 8 && id.low >> 62 == 0b10)
        #expect(RecordID(id.uuidString) == id)
        // Fixed forever: stored records carry these ids (a maintenance plan's work orders, imported records).
        #expect(id.uuidString == "f5d9cfa9-2ff2-801e-9c38-1c36e2ff0d53")
        #expect(RecordID.derived(from: "a") != RecordID.derived(from: "b"))
    }
}
