public import SyncCore

/// The binary form: values in order, names left out. See `SyncProtocol/encoding.md`.
public struct BinaryEncoder: WireEncoder {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// Creates an empty encoder.
    public init() {}

    /// Encodes a value to bytes.
    public static func encode(_ value: some WireCodable) -> [UInt8] {
        var encoder = BinaryEncoder()
        value.encode(to: &encoder)
        return encoder.bytes
    }

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func fixed64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    public mutating func unsigned(_ key: String, _ value: UInt64) { varint(value) }
    public mutating func signed(_ key: String, _ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }
    public mutating func bool(_ key: String, _ value: Bool) { bytes.append(value ? 1 : 0) }
    public mutating func string(_ key: String, _ value: String) {
        varint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }
    public mutating func bytes(_ key: String, _ value: [UInt8]) {
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
    public mutating func id(_ key: String, _ value: RecordID) {
        fixed64(value.high)
        fixed64(value.low)
    }
    public mutating func clock(_ key: String, _ value: HLC) { fixed64(value.rawValue) }
    public mutating func tag(_ key: String, _ index: UInt8, labels: [String]) { bytes.append(index) }
    public mutating func object<T: WireCodable>(_ key: String, _ value: T) { value.encode(to: &self) }
    public mutating func objects<T: WireCodable>(_ key: String, _ values: [T]) {
        varint(UInt64(values.count))
        for value in values { value.encode(to: &self) }
    }
    public mutating func strings(_ key: String, _ values: [String]) {
        varint(UInt64(values.count))
        for value in values { string(key, value) }
    }
    public mutating func presence(_ key: String, _ present: Bool) { bytes.append(present ? 1 : 0) }
}

/// Reads the binary form. Every count and length is checked against its limit and against the
/// bytes that remain before anything is allocated, so no input can make it allocate more than
/// the input's own size allows.
public struct BinaryDecoder: WireDecoder {
    private let input: [UInt8]
    private var position: Int
    private var depth = 0

    /// How deep values may nest.
    public static let nestingMax = 16

    /// Creates a decoder over `input`, starting at `offset`.
    public init(_ input: [UInt8], offset: Int = 0) {
        self.input = input
        self.position = offset
    }

    /// Decodes a value that must use all of `input`.
    public static func decode<T: WireCodable>(_ type: T.Type, from input: [UInt8], offset: Int = 0) throws(WireError) -> T {
        var decoder = BinaryDecoder(input, offset: offset)
        let value = try T(from: &decoder)
        guard decoder.position == input.count else {
            throw WireError(.malformed, "\(input.count - decoder.position) bytes follow the end of the message")
        }
        return value
    }

    private var remaining: Int { input.count - position }

    private mutating func byte(_ key: String) throws(WireError) -> UInt8 {
        guard position < input.count else { throw WireError(.malformed, "the message ends inside \(key)") }
        defer { position += 1 }
        return input[position]
    }

    private mutating func varint(_ key: String) throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try byte(key)
            guard shift < 64, !(shift == 63 && byte > 1) else { throw WireError(.malformed, "\(key) is not a valid varint") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // Reject over-long encodings (a trailing zero byte), so each value has one encoding.
                guard byte != 0 || shift == 0 else { throw WireError(.malformed, "\(key) is not a minimal varint") }
                return result
            }
            shift += 7
        }
    }

    private mutating func fixed64(_ key: String) throws(WireError) -> UInt64 {
        guard remaining >= 8 else { throw WireError(.malformed, "the message ends inside \(key)") }
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(input[position]); position += 1 }
        return value
    }

    private mutating func count(_ key: String, max: Int, minimumElementBytes: Int) throws(WireError) -> Int {
        let count = try varint(key)
        guard count <= UInt64(max) else { throw WireError(.limitExceeded, "\(key) has \(count) entries; at most \(max) are allowed") }
        guard count * UInt64(minimumElementBytes) <= UInt64(remaining) else {
            throw WireError(.malformed, "\(key) claims \(count) entries but the message ends first")
        }
        return Int(count)
    }

    public mutating func unsigned(_ key: String) throws(WireError) -> UInt64 { try varint(key) }
    public mutating func signed(_ key: String) throws(WireError) -> Int64 {
        let raw = try varint(key)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }
    public mutating func bool(_ key: String) throws(WireError) -> Bool {
        switch try byte(key) {
        case 0: return false
        case 1: return true
        default: throw WireError(.malformed, "\(key) is not a boolean")
        }
    }
    public mutating func string(_ key: String, maxBytes: Int) throws(WireError) -> String {
        let raw = try bytes(key, maxBytes: maxBytes)
        guard let text = String(validating: raw, as: UTF8.self) else { throw WireError(.malformed, "\(key) is not valid UTF-8") }
        return text
    }
    public mutating func bytes(_ key: String, maxBytes: Int) throws(WireError) -> [UInt8] {
        let length = try count(key, max: maxBytes, minimumElementBytes: 1)
        defer { position += length }
        return Array(input[position..<position + length])
    }
    public mutating func id(_ key: String) throws(WireError) -> RecordID {
        RecordID(high: try fixed64(key), low: try fixed64(key))
    }
    public mutating func clock(_ key: String) throws(WireError) -> HLC { HLC(rawValue: try fixed64(key)) }
    public mutating func tag(_ key: String, labels: [String]) throws(WireError) -> UInt8 {
        let index = try byte(key)
        guard Int(index) < labels.count else { throw WireError(.malformed, "\(key) has no variant \(index)") }
        return index
    }
    public mutating func object<T: WireCodable>(_ key: String, as type: T.Type) throws(WireError) -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.nestingMax else { throw WireError(.limitExceeded, "values nest deeper than \(Self.nestingMax)") }
        return try T(from: &self)
    }
    public mutating func objects<T: WireCodable>(_ key: String, as type: T.Type, max: Int) throws(WireError) -> [T] {
        let count = try count(key, max: max, minimumElementBytes: 1)
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try object(key, as: type)) }
        return values
    }
    public mutating func strings(_ key: String, max: Int, maxBytes: Int) throws(WireError) -> [String] {
        let count = try count(key, max: max, minimumElementBytes: 1)
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try string(key, maxBytes: maxBytes)) }
        return values
    }
    public mutating func presence(_ key: String) throws(WireError) -> Bool { try bool(key) }
}
