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

    /// The creation time the id carries, in milliseconds since the Unix epoch.
    public var milliseconds: UInt64 { high >> 16 }

    /// The lower-case text form, `xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx`.
    public var uuidString: String {
        let characters = Array(Hex.string(bytes))
        return String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-" + String(characters[12..<16])
            + "-" + String(characters[16..<20]) + "-" + String(characters[20..<32])
    }

    public var description: String { uuidString }

    /// Parses the text form (either case); `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        let digits = text.utf8.filter { $0 != UInt8(ascii: "-") }
        guard text.utf8.count == 36, digits.count == 32,
              [8, 13, 18, 23].allSatisfy({ text.utf8[text.utf8.index(text.utf8.startIndex, offsetBy: $0)] == UInt8(ascii: "-") })
        else { return nil }
        guard let bytes = Hex.decode(digits, allowingUppercase: true) else { return nil }
        self.init(bytes: bytes)
    }

    public static func < (lhs: RecordID, rhs: RecordID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

extension RecordID {
    /// The 16 bytes, big-endian.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * $0)) }
    }

    /// An id from its 16 bytes; `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.init(high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }
}
