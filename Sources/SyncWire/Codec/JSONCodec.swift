public import SyncCore

/// Writes the JSON form: an object per value, keys in the order the value writes them.
public struct JSONWireEncoder: WireEncoder {
    /// The members written so far.
    public private(set) var members: [JSONValue.Member] = []

    /// Creates an empty encoder.
    public init() {}

    /// Encodes a value to a JSON object.
    public static func encode(_ value: some WireCodable) -> JSONValue {
        var encoder = JSONWireEncoder()
        value.encode(to: &encoder)
        return .object(encoder.members)
    }

    private mutating func add(_ key: String, _ value: JSONValue) { members.append(JSONValue.Member(key, value)) }

    public mutating func unsigned(_ key: String, _ value: UInt64) { add(key, .number(String(value))) }
    public mutating func signed(_ key: String, _ value: Int64) { add(key, .number(String(value))) }
    public mutating func bool(_ key: String, _ value: Bool) { add(key, .bool(value)) }
    public mutating func string(_ key: String, _ value: String) { add(key, .string(value)) }
    public mutating func bytes(_ key: String, _ value: [UInt8]) {
        add(key, .string(Hex.string(value)))
    }
    public mutating func id(_ key: String, _ value: RecordID) { add(key, .string(value.uuidString)) }
    public mutating func clock(_ key: String, _ value: HLC) { add(key, .string(value.description)) }
    public mutating func tag(_ key: String, _ index: UInt8, labels: [String]) { add(key, .string(labels[Int(index)])) }
    public mutating func object<T: WireCodable>(_ key: String, _ value: T) { add(key, Self.encode(value)) }
    public mutating func objects<T: WireCodable>(_ key: String, _ values: [T]) { add(key, .array(values.map { Self.encode($0) })) }
    public mutating func strings(_ key: String, _ values: [String]) { add(key, .array(values.map(JSONValue.string))) }
    public mutating func presence(_ key: String, _ present: Bool) {}  // an absent value's key is left out
}

/// Reads the JSON form. A key the value does not read is an error (``WireError/Code/unknownField``),
/// so a client that sends a field this version does not know hears about it.
public struct JSONWireDecoder: WireDecoder {
    private var members: [String: JSONValue]
    private var read: Set<String> = []
    private var depth: Int

    init(_ value: JSONValue, depth: Int) throws(WireError) {
        guard case .object(let members) = value else { throw WireError(.malformed, "expected a JSON object") }
        self.members = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        self.depth = depth
    }

    /// Decodes a value from a JSON object.
    public static func decode<T: WireCodable>(_ type: T.Type, from value: JSONValue) throws(WireError) -> T {
        try decode(type, from: value, depth: 0)
    }

    /// Parses and decodes a JSON document.
    public static func decode<T: WireCodable>(_ type: T.Type, fromJSON bytes: [UInt8]) throws(WireError) -> T {
        try decode(type, from: try JSONValue.parse(bytes))
    }

    private static func decode<T: WireCodable>(_ type: T.Type, from value: JSONValue, depth: Int) throws(WireError) -> T {
        guard depth <= BinaryDecoder.nestingMax else { throw WireError(.limitExceeded, "values nest deeper than \(BinaryDecoder.nestingMax)") }
        var decoder = try JSONWireDecoder(value, depth: depth)
        let result = try T(from: &decoder)
        // A member set to null reads as absent (encoding.md), whatever its name: so
        // `{"kind": "null", "value": null}` is a null value, not an unknown field.
        if let unknown = decoder.members.filter({ !decoder.read.contains($0.key) && $0.value != .null }).keys.sorted().first {
            throw WireError(.unknownField, "unknown field \(unknown)")
        }
        return result
    }

    private mutating func member(_ key: String) throws(WireError) -> JSONValue {
        read.insert(key)
        guard let value = members[key], value != .null else { throw WireError(.malformed, "\(key) is missing") }
        return value
    }

    private mutating func text(_ key: String) throws(WireError) -> String {
        guard case .string(let text) = try member(key) else { throw WireError(.malformed, "\(key) must be a string") }
        return text
    }

    private mutating func numberText(_ key: String) throws(WireError) -> String {
        guard case .number(let text) = try member(key) else { throw WireError(.malformed, "\(key) must be a number") }
        return text
    }

    public mutating func unsigned(_ key: String) throws(WireError) -> UInt64 {
        guard let value = UInt64(try numberText(key)) else { throw WireError(.malformed, "\(key) must be an unsigned 64-bit integer") }
        return value
    }
    public mutating func signed(_ key: String) throws(WireError) -> Int64 {
        guard let value = Int64(try numberText(key)) else { throw WireError(.malformed, "\(key) must be a signed 64-bit integer") }
        return value
    }
    public mutating func bool(_ key: String) throws(WireError) -> Bool {
        guard case .bool(let value) = try member(key) else { throw WireError(.malformed, "\(key) must be true or false") }
        return value
    }
    public mutating func string(_ key: String, maxBytes: Int) throws(WireError) -> String {
        let value = try text(key)
        guard value.utf8.count <= maxBytes else { throw WireError(.limitExceeded, "\(key) is longer than \(maxBytes) bytes") }
        return value
    }
    public mutating func bytes(_ key: String, maxBytes: Int) throws(WireError) -> [UInt8] {
        let hex = Array(try text(key).utf8)
        guard hex.count <= maxBytes * 2 else { throw WireError(.limitExceeded, "\(key) is longer than \(maxBytes) bytes") }
        guard let bytes = Hex.decode(hex) else { throw WireError(.malformed, "\(key) must be lower-case hex") }
        return bytes
    }
    public mutating func id(_ key: String) throws(WireError) -> RecordID {
        guard let id = RecordID(try text(key)) else { throw WireError(.malformed, "\(key) must be a UUID") }
        return id
    }
    public mutating func clock(_ key: String) throws(WireError) -> HLC {
        let parts = try text(key).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = UInt64(parts[0]), milliseconds < 1 << 48, let counter = UInt16(parts[1]) else {
            throw WireError(.malformed, "\(key) must be a clock, \"milliseconds.counter\"")
        }
        return HLC(milliseconds: milliseconds, counter: counter)
    }
    public mutating func tag(_ key: String, labels: [String]) throws(WireError) -> UInt8 {
        let label = try text(key)
        guard let index = labels.firstIndex(of: label) else { throw WireError(.malformed, "\(key) has no variant \(label)") }
        return UInt8(index)
    }
    public mutating func object<T: WireCodable>(_ key: String, as type: T.Type) throws(WireError) -> T {
        try Self.decode(type, from: try member(key), depth: depth + 1)
    }
    public mutating func objects<T: WireCodable>(_ key: String, as type: T.Type, max: Int) throws(WireError) -> [T] {
        guard case .array(let values) = try member(key) else { throw WireError(.malformed, "\(key) must be an array") }
        guard values.count <= max else { throw WireError(.limitExceeded, "\(key) has \(values.count) entries; at most \(max) are allowed") }
        var result: [T] = []
        result.reserveCapacity(values.count)
        for value in values { result.append(try Self.decode(type, from: value, depth: depth + 1)) }
        return result
    }
    public mutating func strings(_ key: String, max: Int, maxBytes: Int) throws(WireError) -> [String] {
        guard case .array(let values) = try member(key) else { throw WireError(.malformed, "\(key) must be an array") }
        guard values.count <= max else { throw WireError(.limitExceeded, "\(key) has \(values.count) entries; at most \(max) are allowed") }
        var result: [String] = []
        for value in values {
            guard case .string(let text) = value else { throw WireError(.malformed, "\(key) must hold strings") }
            guard text.utf8.count <= maxBytes else { throw WireError(.limitExceeded, "an entry of \(key) is longer than \(maxBytes) bytes") }
            result.append(text)
        }
        return result
    }
    public mutating func presence(_ key: String) throws(WireError) -> Bool {
        read.insert(key)
        return members[key].map { $0 != .null } ?? false
    }
}
