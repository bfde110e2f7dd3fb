import SyncCore

/// PostgreSQL's COPY text format: one line per row, columns separated by tabs, `\N` for NULL,
/// and backslash escapes for the characters that would break the line.
enum CopyText {
    static func append(_ row: [PostgresValue], to buffer: inout [UInt8]) {
        for (index, value) in row.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            switch value {
            case .null:
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
            case .text(let text):
                for byte in text.utf8 { appendEscaped(byte, to: &buffer) }
            case .integer(let value):
                buffer.append(contentsOf: String(value).utf8)
            case .uuid(let id):
                buffer.append(contentsOf: id.uuidString.utf8)
            case .bytes(let bytes):
                // bytea's hex input format, whose backslash COPY itself needs escaped: \\x0a1b…
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
                buffer.append(contentsOf: Hex.encode(bytes))
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    private static func appendEscaped(_ byte: UInt8, to buffer: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        default: buffer.append(byte)
        }
    }
}
