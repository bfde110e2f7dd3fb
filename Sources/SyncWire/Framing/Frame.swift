/// The binary frame around a message, and the JSON form of the same message.
///
/// Binary: `46 53` ("FS"), the protocol version (1), a flags byte (bit 0: the payload is a zlib
/// stream), then the payload — the message's binary encoding, deflated when flagged. JSON: an
/// object `{"protocol": 1, "type": …, "body": {…}}`. See `SyncProtocol/encoding.md`.
public enum Frame {
    static let magic: [UInt8] = [0x46, 0x53]
    static let deflated: UInt8 = 0x01

    /// Frames a message, deflating the payload when `compress` is set.
    public static func encode(_ message: Message, compress: Bool = true) throws(WireError) -> [UInt8] {
        let payload = BinaryEncoder.encode(message)
        let body = compress ? try Deflate.compress(payload) : payload
        return magic + [WireLimits.protocolVersion, compress ? deflated : 0] + body
    }

    /// Reads a framed message, enforcing every limit.
    ///
    /// - Throws: ``WireError`` — `compressed_too_large` for a frame over
    ///   ``WireLimits/bodyBytesMax``, `unsupported_version`, `inflated_too_large`,
    ///   `corrupt_compression`, `malformed`, `limit_exceeded`.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> Message {
        guard bytes.count <= WireLimits.bodyBytesMax else {
            throw WireError(.compressedTooLarge, "a frame of \(bytes.count) bytes is over the \(WireLimits.bodyBytesMax)-byte limit")
        }
        guard bytes.count >= 4, Array(bytes[0..<2]) == magic else { throw WireError(.malformed, "not a FieldSync frame") }
        guard bytes[2] == WireLimits.protocolVersion else {
            throw WireError(.unsupportedVersion, "protocol version \(bytes[2]); this build speaks \(WireLimits.protocolVersion)")
        }
        guard bytes[3] & ~deflated == 0 else { throw WireError(.malformed, "unknown frame flags") }
        if bytes[3] & deflated != 0 {
            let payload = try Deflate.decompress(Array(bytes[4...]), inflatedBytesMax: WireLimits.inflatedBytesMax)
            return try BinaryDecoder.decode(Message.self, from: payload)
        }
        return try BinaryDecoder.decode(Message.self, from: bytes, offset: 4)
    }

    /// The JSON form of a message.
    public static func json(_ message: Message) -> JSONValue {
        guard case .object(let members) = JSONWireEncoder.encode(message) else { return .null }
        return .object([JSONValue.Member("protocol", .number(String(WireLimits.protocolVersion)))] + members)
    }

    /// Reads the JSON form of a message.
    public static func decode(json bytes: [UInt8]) throws(WireError) -> Message {
        guard bytes.count <= WireLimits.inflatedBytesMax else {
            throw WireError(.inflatedTooLarge, "a JSON message of \(bytes.count) bytes is over the \(WireLimits.inflatedBytesMax)-byte limit")
        }
        guard case .object(let members) = try JSONValue.parse(bytes) else { throw WireError(.malformed, "a message is a JSON object") }
        guard let version = members.first(where: { $0.key == "protocol" })?.value else {
            throw WireError(.malformed, "protocol is missing")
        }
        guard version == .number(String(WireLimits.protocolVersion)) else {
            throw WireError(.unsupportedVersion, "this build speaks protocol \(WireLimits.protocolVersion)")
        }
        return try JSONWireDecoder.decode(Message.self, from: .object(members.filter { $0.key != "protocol" }))
    }
}
