/// The id of a record: a UUIDv7 (RFC 9562), made by whichever replica creates the record.
///
/// Why UUIDv7: a phone creates orders and check-ins offline, so ids cannot come from the server;
/// 74 random bits make collisions practically impossible, and the leading 48-bit millisecond
/// timestamp keeps ids of records created close together close in B-tree indexes. The server
/// never rewrites an id. Ids compare by their bytes, which orders them by creation time.
public struct RecordID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 16 bytes, big-endian as in the UUID's text form.
    public let high: UInt64
    /// See ``high``.
    public let low: UInt64

    /// Creates an id from its two 64-bit halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Makes a new UUIDv7 for `milliseconds` since the Unix epoch, with random bits from `generator`.
    public static func make(milliseconds: UInt64, using generator: inout some RandomNumberGenerator) -> RecordID {
        precondition(milliseconds < 1 << 48, "UUIDv7 holds 48 bits of milliseconds")
        let randomA = generator.next() & 0x0FFF  // 12 bits
        let randomB = generator.next() & 0x3FFF_FFFF_FFFF_FFFF  // 62 bits
        return RecordID(
            high: milliseconds << 16 | 0x7000 | randomA,
            low: 0x8000_0000_0000_0000 | randomB
        )
    }

    /// The id a record gets from a key the server derives it from (a maintenance plan and its due
    /// date, a tenant's table and an ERP key): the same key always gives the same id, so a job run
    /// twice, or on two servers at once, writes one record. A UUID of version 8 (custom) with the
    /// RFC 9562 variant; its 122 bits are two FNV-1a hashes of the key's UTF-8. Such ids carry no
    /// time (``milliseconds`` means nothing for them).
    public static func derived(from key: String) -> RecordID {
        func fnv(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in key.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            return hash
        }
        let high = (fnv(0xCBF2_9CE4_8422_2325) & ~0xF000) | 0x8000
        let low = (fnv(0x8422_2325_CBF2_9CE4) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return RecordID(high: high, low: low)
    }

    /// The creation time the id carries, in milliseconds since the Unix epoch.
    public var milliseconds: UInt64 { high >> 16 }

    /// The lower-case text form, `xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx`.
    public var uuidString: String {
        // Ids are formatted for every query and log line: one pass, one allocation.
        String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            for index in 0..<32 {
                if index == 8 || index == 12 || index == 16 || index == 20 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                let word = index < 16 ? high : low
                buffer[position] = Hex.digits[Int(word >> UInt64(60 - 4 * (index % 16)) & 0xF)]
                position += 1
            }
            return position
        }
    }

    public var description: String { uuidString }

    /// Parses the text form (either case); `nil` for anything else.
    ///
    /// Inlinable, so that callers parsing ids by the thousand (every id column the server reads
    /// from PostgreSQL) get it specialized for their string type, reading contiguous UTF-8 directly.
    @inlinable
    public init?(_ text: some StringProtocol) {
        let parsed = text.utf8.withContiguousStorageIfAvailable { Self.parse($0) } ?? Array(text.utf8).withUnsafeBufferPointer { Self.parse($0) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Parses the text form (either case) from its UTF-8 bytes; `nil` for anything else.
    public init?(utf8 text: UnsafeBufferPointer<UInt8>) {
        guard let parsed = Self.parse(text) else { return nil }
        self = parsed
    }

    /// Parses the 36 bytes of the text form.
    @usableFromInline
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> RecordID? {
        guard text.count == 36 else { return nil }
        var high: UInt64 = 0, low: UInt64 = 0
        var digits = 0
        for position in 0..<36 {
            let character = text[position]
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard character == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt64
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt64(character &- UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt64(character &- UInt8(ascii: "a") &+ 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = UInt64(character &- UInt8(ascii: "A") &+ 10)
            default: return nil
            }
            if digits < 16 { high = high << 4 | value } else { low = low << 4 | value }
            digits += 1
        }
        return RecordID(high: high, low: low)
    }

    public static func < (lhs: RecordID, rhs: RecordID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

extension RecordID {
    /// The 16 bytes, big-endian.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 16) { buffer, count in
            for index in 0..<8 {
                buffer[index] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * index))
                buffer[index + 8] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * index))
            }
            count = 16
        }
    }

    /// An id from its 16 bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.init(high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }
}
