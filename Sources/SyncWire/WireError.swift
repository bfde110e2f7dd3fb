/// An error from encoding, decoding or framing a protocol message.
///
/// Like every FieldSync error, it is a struct with an extensible ``Code`` rather than an enum,
/// so that new codes can be added without breaking clients that switch over the old ones.
/// Its ``description`` names what went wrong and the limit involved, never the payload.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is; stable across releases and listed in `SyncProtocol/`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable wire name of the code, for example `inflated_too_large`.
        public let name: String

        /// Creates a code with its stable wire name.
        public init(_ name: String) { self.name = name }

        /// Inflating a body would produce more bytes than the limit allows (a compression bomb,
        /// or simply a body that is too large).
        public static let inflatedTooLarge = Code("inflated_too_large")
        /// The compressed bytes are not a valid zlib stream (bad header, bad checksum, truncated,
        /// or trailing bytes after the end of the stream).
        public static let corruptCompression = Code("corrupt_compression")
        /// The compressed body itself is larger than the limit for bodies on the wire.
        public static let compressedTooLarge = Code("compressed_too_large")
        /// zlib could not allocate memory or reported an internal error.
        public static let compressionFailed = Code("compression_failed")
        /// The bytes or the JSON do not form a valid message (truncated, a bad tag, invalid UTF-8,
        /// a value out of range, trailing bytes).
        public static let malformed = Code("malformed")
        /// A count, a length or the nesting is over its named limit (see ``WireLimits``).
        public static let limitExceeded = Code("limit_exceeded")
        /// The JSON form has a key the message does not define.
        public static let unknownField = Code("unknown_field")
        /// The frame names a message type this version does not know.
        public static let unknownMessageType = Code("unknown_message_type")
        /// The frame is of a protocol version this build does not speak.
        public static let unsupportedVersion = Code("unsupported_version")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable explanation that never contains payload bytes.
    public var message: String

    /// Creates an error with a code and a payload-free message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.name): \(message)" }
}
