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
        // Contiguous bytes (an array: a feed entry on its way to PostgreSQL) are written straight
        // into the string; this generic function runs unspecialized from other modules.
        if let text = bytes.withContiguousStorageIfAvailable({ buffer in
            String(unsafeUninitializedCapacity: buffer.count * 2) { utf8 in
                for (index, byte) in buffer.enumerated() {
                    utf8[2 * index] = digits[Int(byte >> 4)]
                    utf8[2 * index + 1] = digits[Int(byte & 0x0F)]
                }
                return buffer.count * 2
            }
        }) {
            return text
        }
        return String(decoding: encode(bytes), as: UTF8.self)
    }

    /// The bytes that `text` spells, or `nil` for an odd count or any other character.
    /// - Parameter allowingUppercase: Also accept `A`–`F` (ids may come in either case).
    public static func decode(_ text: some Collection<UInt8>, allowingUppercase: Bool = false) -> [UInt8]? {
        // Contiguous text (arrays, slices, a string's UTF-8) is read in place; this function is
        // generic across modules, so a digit-by-digit loop here would run unspecialized: a
        // feed page's bytes (PostgreSQL's `bytea` arrives as hex) took 6 % of a swarm's CPU.
        if let bytes = text.withContiguousStorageIfAvailable({ decode(buffer: $0, allowingUppercase: allowingUppercase) }) { return bytes }
        return Array(text).withUnsafeBufferPointer { decode(buffer: $0, allowingUppercase: allowingUppercase) }
    }

    private static func decode(buffer text: UnsafeBufferPointer<UInt8>, allowingUppercase: Bool) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        let table = allowingUppercase ? anyCaseValues : lowerCaseValues
        var valid = true
        let bytes = [UInt8](unsafeUninitializedCapacity: text.count / 2) { bytes, count in
            table.withUnsafeBufferPointer { table in
                var index = 0
                while index < text.count {
                    let high = table[Int(text[index])], low = table[Int(text[index + 1])]
                    guard (high | low) & 0xF0 == 0 else { valid = false; break }
                    bytes[index / 2] = high << 4 | low
                    index += 2
                }
            }
            count = valid ? text.count / 2 : 0
        }
        return valid ? bytes : nil
    }

    /// Each ASCII byte's value as a hex digit, `0xFF` for any other byte.
    private static let lowerCaseValues = values(allowingUppercase: false)
    private static let anyCaseValues = values(allowingUppercase: true)

    private static func values(allowingUppercase: Bool) -> [UInt8] {
        (0..<256).map { byte in
            switch UInt8(byte) {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where allowingUppercase: UInt8(byte) - UInt8(ascii: "A") + 10
            default: 0xFF
            }
        }
    }
}
