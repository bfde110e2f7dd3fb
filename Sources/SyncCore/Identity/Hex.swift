/// Bytes as hexadecimal digits, the one implementation behind ids' text form, the JSON form of
/// bytes, and PostgreSQL's `bytea`.
public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hexadecimal digits (ASCII), two per byte.
    public static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// Lower-case hexadecimal text, two digits per byte.
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    /// The bytes that `text` spells, or `nil` for an odd count or any other character.
    /// - Parameter allowingUppercase: Also accept `A`–`F` (ids may come in either case).
    public static func decode(_ text: some Collection<UInt8>, allowingUppercase: Bool = false) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var high: UInt8?
        for digit in text {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where allowingUppercase: value = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }
}
