import Crypto
import SyncCore

/// A photo's or signature's bytes as the app captured them, to be kept with the record that
/// references them.
///
/// The phone keeps the bytes in its own table (not synced) in the same transaction as the
/// `attachments` record naming them by SHA-256; ``DeviceStore`` hands them to the upload once the
/// server has answered that record's change set.
public struct AttachmentFile: Sendable, Hashable {
    /// What the bytes show, as the `attachments.kind` field names it.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        /// The stable name.
        public let name: String
        /// Creates a kind (at most 20 characters, as the schema allows).
        public init(_ name: String) { self.name = name }
        /// A photo: a store front, a shelf, before and after a repair.
        public static let photo = Kind("photo")
        /// A customer's signature.
        public static let signature = Kind("signature")
        public var description: String { name }
    }

    /// The bytes.
    public var bytes: [UInt8]
    /// The media type (`image/jpeg`, `image/png`, …).
    public var mediaType: String
    /// What the bytes show.
    public var kind: Kind

    /// Creates a file.
    public init(bytes: [UInt8], mediaType: String, kind: Kind) {
        self.bytes = bytes
        self.mediaType = mediaType
        self.kind = kind
    }

    /// The bytes' SHA-256 in lower-case hex: their name on the server.
    public var sha256: String { Self.sha256(of: bytes) }

    /// The SHA-256 of `bytes` in lower-case hex.
    public static func sha256(of bytes: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(Schema.blobReferenceLength)
        for byte in SHA256.hash(data: bytes) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The media type the bytes' first bytes announce (JPEG, PNG, WebP, HEIC, PDF), or
    /// `application/octet-stream`.
    public static func mediaType(sniffing bytes: [UInt8]) -> String {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts(Array("RIFF".utf8)), starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("ftypheic".utf8), at: 4) || starts(Array("ftypmif1".utf8), at: 4) { return "image/heic" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        return "application/octet-stream"
    }
}
