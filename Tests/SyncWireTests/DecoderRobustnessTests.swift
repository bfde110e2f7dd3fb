import ProtocolDocuments
import Foundation
import SyncCore
import Testing

@testable import SyncWire

/// No input, however malformed, crashes the decoder: random bytes and mutations of every golden
/// frame give a message or a `WireError`, never a trap. 100,000 inputs by default;
/// FIELDSYNC_FUZZ_INPUTS sets more.
@Suite("Decoder robustness")
struct DecoderRobustnessTests {
    static var inputs: Int { ProcessInfo.processInfo.environment["FIELDSYNC_FUZZ_INPUTS"].flatMap(Int.init) ?? 100_000 }

    static var goldens: [[UInt8]] {
        ProtocolExamples.all.map { (try? Frame.encode($0.message, compress: false)) ?? [] }
    }

    static func mutate(_ input: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + Int(random.next() % 4)) {
            let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
            switch random.next() % 6 {
            case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1 << (random.next() % 8))  // flip a bit
            case 1 where !bytes.isEmpty: bytes[position] = UInt8(truncatingIfNeeded: random.next())  // a random byte
            case 2: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
            case 3 where !bytes.isEmpty: bytes.remove(at: position)
            case 4: bytes = Array(bytes.prefix(position))  // truncate
            default:
                // A large varint where a count may be: the classic allocation attack.
                bytes.insert(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], at: position)
            }
        }
        return bytes
    }

    @Test("random and mutated binary frames")
    func binary() {
        var random = SplitMix64(seed: 0xF1E1D)
        let goldens = Self.goldens
        var decoded = 0
        for index in 0..<Self.inputs {
            let input: [UInt8]
            if index % 4 == 0 {
                let header: [UInt8] = index % 8 == 0 ? [0x46, 0x53, 1, 0] : []
                input = header + (0..<Int(random.next() % 96)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                input = Self.mutate(goldens[index % goldens.count], using: &random)
            }
            do {
                let message = try Frame.decode(input)
                decoded += 1
                // Whatever decodes must encode back to a frame that decodes to the same message.
                #expect(try Frame.decode(Frame.encode(message, compress: false)) == message)
            } catch {
                // A WireError is the expected answer to a malformed input.
            }
        }
        #expect(decoded < Self.inputs, "mutations must break most frames")
    }

    @Test("mutated JSON messages")
    func json() throws {
        var random = SplitMix64(seed: 0x15011)
        let goldens = ProtocolExamples.all.map { Array(Frame.json($0.message).printed.utf8) }
        for index in 0..<(Self.inputs / 5) {
            let input = Self.mutate(goldens[index % goldens.count], using: &random)
            if let message = try? Frame.decode(json: input) {
                #expect((try? Frame.decode(json: Array(Frame.json(message).printed.utf8))) == message)
            }
        }
    }
}
