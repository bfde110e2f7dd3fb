import Testing

@testable import SyncWire

@Suite("Deflate")
struct DeflateTests {
    @Test("compress then decompress gives back the bytes", arguments: [0, 1, 100, 65_536, 1_000_003])
    func roundTrip(count: Int) throws {
        var generator = SystemRandomNumberGenerator()
        // Half random, half repetitive, as real bodies are.
        let bytes = (0..<count).map { $0 % 2 == 0 ? UInt8.random(in: 0...255, using: &generator) : UInt8($0 % 7) }
        let compressed = try Deflate.compress(bytes)
        #expect(try Deflate.decompress(compressed, inflatedBytesMax: count) == bytes)
    }

    @Test("gzip wraps the same deflate data in gzip's container, which a FieldSync body never is")
    func gzipContainer() throws {
        let bytes = Array(String(repeating: "{\"table\":\"visits\"}", count: 50).utf8)
        let gzip = try Deflate.compress(bytes, gzip: true)
        let zlib = try Deflate.compress(bytes)
        #expect(gzip.prefix(3) == [0x1F, 0x8B, 8])  // gzip's magic, then deflate
        #expect(Array(gzip.dropFirst(10).dropLast(8)) == Array(zlib.dropFirst(2).dropLast(4)))  // the same deflate stream
        #expect(throws: WireError.self) { try Deflate.decompress(gzip, inflatedBytesMax: bytes.count) }
    }

    @Test("a body that inflates to exactly the limit is accepted; one byte more is refused")
    func exactLimit() throws {
        let bytes = [UInt8](repeating: 1, count: 10_000)
        let compressed = try Deflate.compress(bytes)
        #expect(try Deflate.decompress(compressed, inflatedBytesMax: 10_000).count == 10_000)
        let error = #expect(throws: WireError.self) { try Deflate.decompress(compressed, inflatedBytesMax: 9_999) }
        #expect(error?.code == .inflatedTooLarge)
    }

    @Test("a compression bomb is refused without inflating it")
    func bomb() throws {
        // 256 MiB of zeros deflates to about 256 KiB; inflating it under a 1 MiB limit must stop
        // at the limit rather than allocate the whole.
        var bomb = try Deflate.compress([UInt8](repeating: 0, count: 1 << 20))
        #expect(bomb.count < 2_000)
        bomb = try Deflate.compress([UInt8](repeating: 0, count: 256 << 20), level: 9)
        let error = #expect(throws: WireError.self) { try Deflate.decompress(bomb, inflatedBytesMax: 1 << 20) }
        #expect(error?.code == .inflatedTooLarge)
    }

    @Test("truncated, corrupted, trailing and random input is an error, never a crash")
    func corrupt() throws {
        let good = try Deflate.compress(Array("the quick brown fox jumps over the lazy dog".utf8))
        let truncated = Array(good.dropLast(5))
        var flipped = good
        flipped[good.count / 2] ^= 0x55
        let trailing = good + [1, 2, 3]
        for input in [[], truncated, flipped, trailing, [0x78], [0x00, 0x01, 0x02, 0x03]] {
            let error = #expect(throws: WireError.self) { try Deflate.decompress(input, inflatedBytesMax: 1 << 16) }
            #expect(error?.code == .corruptCompression)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let input = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(throws: WireError.self) { try Deflate.decompress(input, inflatedBytesMax: 1 << 16) }
        }
    }
}
