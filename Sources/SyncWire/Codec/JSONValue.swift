/// A JSON document, kept exactly: numbers as their text (so 64-bit integers survive), object
/// members in their order (so printing is deterministic).
public indirect enum JSONValue: Hashable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as written.
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; keys are unique.
    case object([Member])

    /// One member of an object.
    public struct Member: Hashable, Sendable {
        /// The key.
        public var key: String
        /// The value.
        public var value: JSONValue
        /// Creates a member.
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// How deep arrays and objects may nest.
    public static let nestingMax = 32

    /// Parses strict JSON (RFC 8259): one value, no trailing commas, no comments, no duplicate keys.
    public static func parse(_ bytes: [UInt8]) throws(WireError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("text after the JSON value") }
        return value
    }

    /// The value as indented JSON (two spaces), members in order, ending in a newline: the form of
    /// the golden files under `Fixtures/protocol/`.
    public var printed: String {
        var text = ""
        print(into: &text, indent: "")
        return text + "\n"
    }

    /// The value as JSON without any whitespace, members in order: the smallest text form.
    public var compact: String {
        var text = ""
        print(into: &text, indent: nil)
        return text
    }

    /// Prints the value, indented by `indent` (`nil`: no whitespace at all).
    private func print(into text: inout String, indent: String?) {
        let newline = indent == nil ? "" : "\n"
        let inner = indent.map { $0 + "  " }
        switch self {
        case .null: text += "null"
        case .bool(let value): text += value ? "true" : "false"
        case .number(let value): text += value
        case .string(let value): Self.quote(value, into: &text)
        case .array(let values):
            guard !values.isEmpty else { text += "[]"; return }
            text += "[" + newline
            for (index, value) in values.enumerated() {
                text += inner ?? ""
                value.print(into: &text, indent: inner)
                text += index == values.count - 1 ? newline : "," + newline
            }
            text += (indent ?? "") + "]"
        case .object(let members):
            guard !members.isEmpty else { text += "{}"; return }
            text += "{" + newline
            for (index, member) in members.enumerated() {
                text += inner ?? ""
                Self.quote(member.key, into: &text)
                text += indent == nil ? ":" : ": "
                member.value.print(into: &text, indent: inner)
                text += index == members.count - 1 ? newline : "," + newline
            }
            text += (indent ?? "") + "}"
        }
    }

    private static func quote(_ value: String, into text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        func error(_ what: String) -> WireError { WireError(.malformed, "JSON: \(what) at byte \(position)") }

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func expect(_ literal: String) throws(WireError) {
            for byte in literal.utf8 {
                guard position < bytes.count, bytes[position] == byte else { throw error("expected \(literal)") }
                position += 1
            }
        }

        mutating func value(depth: Int) throws(WireError) -> JSONValue {
            guard depth <= JSONValue.nestingMax else { throw WireError(.limitExceeded, "JSON nests deeper than \(JSONValue.nestingMax)") }
            guard position < bytes.count else { throw error("the document ends early") }
            switch bytes[position] {
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                position += 1
                var values: [JSONValue] = []
                skipWhitespace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(values) }
                while true {
                    skipWhitespace()
                    values.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard position < bytes.count else { throw error("an array ends early") }
                    if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(values) }
                    try expect(",")
                }
            case UInt8(ascii: "{"):
                position += 1
                var members: [Member] = []
                var keys = Set<String>()
                skipWhitespace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                while true {
                    skipWhitespace()
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    guard keys.insert(key).inserted else { throw error("the key \(key) appears twice") }
                    skipWhitespace()
                    try expect(":")
                    skipWhitespace()
                    members.append(Member(key, try value(depth: depth + 1)))
                    skipWhitespace()
                    guard position < bytes.count else { throw error("an object ends early") }
                    if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                    try expect(",")
                }
            default:
                return .number(try number())
            }
        }

        mutating func number() throws(WireError) -> String {
            let start = position
            func digits() -> Int {
                let first = position
                while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
                return position - first
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
            let integerStart = position
            let integerDigits = digits()
            guard integerDigits > 0 else { throw error("expected a value") }
            guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw error("a number with a leading zero") }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { throw error("a number without fraction digits") }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                guard digits() > 0 else { throw error("a number without exponent digits") }
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func string() throws(WireError) -> String {
            position += 1  // the opening quote
            var scalars = String.UnicodeScalarView()
            var chunkStart = position
            func flush(_ end: Int) throws(WireError) {
                guard let text = String(validating: bytes[chunkStart..<end], as: UTF8.self) else { throw error("a string is not valid UTF-8") }
                scalars.append(contentsOf: text.unicodeScalars)
            }
            while true {
                guard position < bytes.count else { throw error("a string ends early") }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    try flush(position)
                    position += 1
                    return String(scalars)
                }
                guard byte >= 0x20 else { throw error("a control character inside a string") }
                if byte != UInt8(ascii: "\\") { position += 1; continue }
                try flush(position)
                position += 1
                guard position < bytes.count else { throw error("a string ends early") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        try expect("\\u")
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("an unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("an invalid \\u escape") }
                    scalars.append(scalar)
                default: throw error("an invalid escape")
                }
                chunkStart = position
            }
        }

        mutating func hex4() throws(WireError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("a \\u escape ends early") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("an invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }
    }
}
