public import SyncCore

/// A protocol value that can be written to and read from the wire, in binary or in JSON.
///
/// Each message is described once, as a sequence of named fields written through a
/// ``WireEncoder`` and read back through a ``WireDecoder``. The binary form ignores the names
/// and writes the values in order; the JSON form writes an object with the names as keys. So the
/// two forms cannot drift apart, and `SyncProtocol/messages.md` documents both at once.
public protocol WireCodable: Sendable {
    /// Writes the value's fields in order.
    func encode(to encoder: inout some WireEncoder)
    /// Reads the value's fields in the same order.
    init(from decoder: inout some WireDecoder) throws(WireError)
}

/// Writes named fields.
public protocol WireEncoder {
    /// An unsigned integer (binary: LEB128 varint).
    mutating func unsigned(_ key: String, _ value: UInt64)
    /// A signed integer (binary: zig-zag varint).
    mutating func signed(_ key: String, _ value: Int64)
    /// A boolean (binary: one byte).
    mutating func bool(_ key: String, _ value: Bool)
    /// UTF-8 text (binary: varint length, then the bytes).
    mutating func string(_ key: String, _ value: String)
    /// Bytes (binary: varint length, then the bytes; JSON: lower-case hex).
    mutating func bytes(_ key: String, _ value: [UInt8])
    /// A UUID (binary: 16 bytes; JSON: its text form).
    mutating func id(_ key: String, _ value: RecordID)
    /// A clock (binary: 8 bytes big-endian; JSON: `"milliseconds.counter"`).
    mutating func clock(_ key: String, _ value: HLC)
    /// The variant of an enumeration (binary: one byte; JSON: its label).
    mutating func tag(_ key: String, _ index: UInt8, labels: [String])
    /// A nested value.
    mutating func object<T: WireCodable>(_ key: String, _ value: T)
    /// A list of nested values.
    mutating func objects<T: WireCodable>(_ key: String, _ values: [T])
    /// A list of strings.
    mutating func strings(_ key: String, _ values: [String])
    /// Whether an optional field follows (binary: one byte; JSON: the key is present or left out).
    /// Call the matching method for the value after it when `present` is true.
    mutating func presence(_ key: String, _ present: Bool)
}

/// Reads named fields, enforcing a limit on every length and count before allocating anything.
public protocol WireDecoder {
    /// See ``WireEncoder/unsigned(_:_:)``.
    mutating func unsigned(_ key: String) throws(WireError) -> UInt64
    /// See ``WireEncoder/signed(_:_:)``.
    mutating func signed(_ key: String) throws(WireError) -> Int64
    /// See ``WireEncoder/bool(_:_:)``.
    mutating func bool(_ key: String) throws(WireError) -> Bool
    /// Reads text of at most `maxBytes` UTF-8 bytes.
    mutating func string(_ key: String, maxBytes: Int) throws(WireError) -> String
    /// Reads at most `maxBytes` bytes.
    mutating func bytes(_ key: String, maxBytes: Int) throws(WireError) -> [UInt8]
    /// See ``WireEncoder/id(_:_:)``.
    mutating func id(_ key: String) throws(WireError) -> RecordID
    /// See ``WireEncoder/clock(_:_:)``.
    mutating func clock(_ key: String) throws(WireError) -> HLC
    /// Reads a variant and returns its index in `labels`.
    mutating func tag(_ key: String, labels: [String]) throws(WireError) -> UInt8
    /// Reads a nested value.
    mutating func object<T: WireCodable>(_ key: String, as type: T.Type) throws(WireError) -> T
    /// Reads at most `max` nested values.
    mutating func objects<T: WireCodable>(_ key: String, as type: T.Type, max: Int) throws(WireError) -> [T]
    /// Reads at most `max` strings of at most `maxBytes` each.
    mutating func strings(_ key: String, max: Int, maxBytes: Int) throws(WireError) -> [String]
    /// Whether the optional field `key` is present.
    mutating func presence(_ key: String) throws(WireError) -> Bool
}

extension WireEncoder {
    /// Writes an optional nested value.
    public mutating func optionalObject<T: WireCodable>(_ key: String, _ value: T?) {
        presence(key, value != nil)
        if let value { object(key, value) }
    }

    /// Writes an optional string.
    public mutating func optionalString(_ key: String, _ value: String?) {
        presence(key, value != nil)
        if let value { string(key, value) }
    }

    /// Writes an optional clock.
    public mutating func optionalClock(_ key: String, _ value: HLC?) {
        presence(key, value != nil)
        if let value { clock(key, value) }
    }

    /// Writes an optional unsigned integer.
    public mutating func optionalUnsigned(_ key: String, _ value: UInt64?) {
        presence(key, value != nil)
        if let value { unsigned(key, value) }
    }

    /// Writes a bucket by its name.
    public mutating func bucket(_ key: String, _ value: Bucket) { string(key, value.name) }

    /// Writes buckets by their names.
    public mutating func buckets(_ key: String, _ values: [Bucket]) { strings(key, values.map(\.name)) }
}

extension WireDecoder {
    /// Reads an optional nested value.
    public mutating func optionalObject<T: WireCodable>(_ key: String, as type: T.Type) throws(WireError) -> T? {
        try presence(key) ? try object(key, as: type) : nil
    }

    /// Reads an optional string.
    public mutating func optionalString(_ key: String, maxBytes: Int) throws(WireError) -> String? {
        try presence(key) ? try string(key, maxBytes: maxBytes) : nil
    }

    /// Reads a name: a table, field, state, bucket, rule or error code, an app version or a
    /// platform. Names may not hold U+0000 (`malformed`); only field values may, and the schema
    /// refuses those change by change (`invalid_text`), so no string with U+0000 reaches the
    /// database.
    public mutating func name(_ key: String, maxBytes: Int) throws(WireError) -> String {
        let text = try string(key, maxBytes: maxBytes)
        guard !text.utf8.contains(0) else { throw WireError(.malformed, "\(key) may not hold U+0000") }
        return text
    }

    /// Reads an optional name (see ``name(_:maxBytes:)``).
    public mutating func optionalName(_ key: String, maxBytes: Int) throws(WireError) -> String? {
        try presence(key) ? try name(key, maxBytes: maxBytes) : nil
    }

    /// Reads a list of names (see ``name(_:maxBytes:)``).
    public mutating func names(_ key: String, max: Int, maxBytes: Int) throws(WireError) -> [String] {
        let values = try strings(key, max: max, maxBytes: maxBytes)
        guard !values.contains(where: { $0.utf8.contains(0) }) else { throw WireError(.malformed, "\(key) may not hold U+0000") }
        return values
    }

    /// Reads a bucket's name (a name of at most ``WireLimits/bucketBytesMax`` bytes).
    public mutating func bucket(_ key: String) throws(WireError) -> Bucket {
        Bucket(try name(key, maxBytes: WireLimits.bucketBytesMax))
    }

    /// Reads at most ``WireLimits/bucketsMax`` buckets' names.
    public mutating func buckets(_ key: String) throws(WireError) -> [Bucket] {
        try names(key, max: WireLimits.bucketsMax, maxBytes: WireLimits.bucketBytesMax).map { Bucket($0) }
    }

    /// Reads an optional clock.
    public mutating func optionalClock(_ key: String) throws(WireError) -> HLC? {
        try presence(key) ? try clock(key) : nil
    }

    /// Reads an optional unsigned integer.
    public mutating func optionalUnsigned(_ key: String) throws(WireError) -> UInt64? {
        try presence(key) ? try unsigned(key) : nil
    }

    /// Reads an unsigned integer that must fit `T`.
    public mutating func unsigned<T: FixedWidthInteger>(_ key: String, as type: T.Type) throws(WireError) -> T {
        let value = try unsigned(key)
        guard let narrowed = T(exactly: value) else { throw WireError(.malformed, "\(key) is out of range") }
        return narrowed
    }
}
