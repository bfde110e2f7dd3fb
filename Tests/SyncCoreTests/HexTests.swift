import PropertyBased
import Testing

@testable import SyncCore

@Suite("Hex")
struct HexTests {
    @Test("any bytes read back from their digits, in lower or upper case, from an array, a slice or a lazy view")
    func roundTrip() async {
        await propertyCheck(count: Arbitrary.cases, input: Gen.uint64()) { seed in
            var random = SplitMix64(seed: seed)
            let bytes = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let digits = Hex.encode(bytes)
            #expect(digits.count == bytes.count * 2)
            #expect(Hex.decode(digits) == bytes)
            #expect(Hex.decode(([0x30, 0x30] + digits)[2...]) == bytes, "a slice that does not start at 0")
            #expect(Hex.decode([0x30, 0x30] + digits) == [0] + bytes)
            #expect(Hex.decode(digits.lazy.map { $0 }) == bytes, "a collection without contiguous storage")
            #expect(Hex.string(bytes) == String(decoding: digits, as: UTF8.self), "from contiguous bytes")
            #expect(Hex.string(bytes.lazy.map { $0 }) == String(decoding: digits, as: UTF8.self), "from bytes without contiguous storage")
            let upper = Array(Hex.string(bytes).uppercased().utf8)
            #expect(Hex.decode(upper, allowingUppercase: true) == bytes)
            #expect(Hex.decode(upper) == (bytes.allSatisfy { $0 >> 4 < 10 && $0 & 0x0F < 10 } ? bytes : nil), "upper case only when asked")
        }
    }

    @Test("an odd count or any character but a hex digit is refused", arguments: ["0", "abc", "0g", "g0", " 00", "00 ", "-1", "0x", "ff\u{0}0", "é0"])
    func malformed(text: String) {
        #expect(Hex.decode(Array(text.utf8), allowingUppercase: true) == nil)
        #expect(Hex.decode(Array(text.utf8).lazy.map { $0 }, allowingUppercase: true) == nil)
    }

    @Test("every byte value decodes to what it spells")
    func everyByte() {
        for byte in 0...255 {
            let text = Hex.string([UInt8(byte)])
            #expect(Hex.decode(Array(text.utf8)) == [UInt8(byte)])
        }
        #expect(Hex.decode([UInt8]()) == [])
    }
}
