import SyncCore

/// One-dimensional arrays in PostgreSQL's binary format (`array_recv`), for a column of
/// ``PostgresBatch/insert(into:columns:rows:suffix:)``: the server reads each element as it
/// is, where the text form (`{"…","…"}`) has every element quoted, escaped and parsed again.
///
/// The format: the number of dimensions (1), whether an element is NULL, the element type's
/// OID, the length and lower bound (1); then each element as its length (-1 for NULL) and its
/// bytes in the type's binary form, integers big-endian.
enum PostgresBinaryArray {
    /// An element type that has a binary form here, by the name a statement casts to.
    enum Element {
        case boolean, bytea, smallint, integer, bigint, text, uuid

        /// The element type named `name` (`uuid`, `bigint`, `int`, …), `nil` for any other.
        init?(_ name: String) {
            switch name {
            case "boolean", "bool": self = .boolean
            case "bytea": self = .bytea
            case "smallint", "int2": self = .smallint
            case "integer", "int", "int4": self = .integer
            case "bigint", "int8": self = .bigint
            case "text": self = .text
            case "uuid": self = .uuid
            default: return nil
            }
        }

        /// The type's OID (`pg_type.oid`, fixed for built-in types).
        var oid: UInt32 {
            switch self {
            case .boolean: 16
            case .bytea: 17
            case .bigint: 20
            case .smallint: 21
            case .integer: 23
            case .text: 25
            case .uuid: 2950
            }
        }
    }

    /// The array of `values` (each in text format, as a parameter would be, bytes for `bytea`,
    /// or an integer or a UUID as a value, taken as is) with elements of type `element`; `nil` when a value has no binary form here (text
    /// that does not parse as the type, bytes for another type), so that the caller sends the
    /// text form and PostgreSQL reports the value.
    static func encode(_ values: some Collection<PostgresValue>, as element: Element) -> [UInt8]? {
        var body: [UInt8] = []
        body.reserveCapacity(values.count * 12)
        var hasNull = false
        for value in values {
            switch value {
            case .null:
                hasNull = true
                append(-1 as Int32, to: &body)
            case .bytes(let bytes):
                // PostgreSQL holds at most 1 GB in a field; a longer value goes as text, to be refused there.
                guard element == .bytea, let length = Int32(exactly: bytes.count) else { return nil }
                append(length, to: &body)
                body += bytes
            case .text(let text):
                guard appendElement(text, as: element, to: &body) else { return nil }
            case .integer(let value):
                guard element == .text ? appendElement(String(value), as: .text, to: &body) : appendElement(value, as: element, to: &body) else { return nil }
            case .uuid(let id) where element == .uuid:
                append(16 as Int32, to: &body)
                append(id.high, to: &body)
                append(id.low, to: &body)
            case .uuid(let id):
                guard appendElement(id.uuidString, as: element, to: &body) else { return nil }
            }
        }
        guard let count = Int32(exactly: values.count) else { return nil }
        var array: [UInt8] = []
        array.reserveCapacity(20 + body.count)
        append(1 as Int32, to: &array)
        append(hasNull ? 1 : 0 as Int32, to: &array)
        append(element.oid, to: &array)
        append(count, to: &array)
        append(1 as Int32, to: &array)
        array += body
        return array
    }

    /// Appends one element given in text format: its length and its binary form.
    private static func appendElement(_ text: String, as element: Element, to body: inout [UInt8]) -> Bool {
        switch element {
        case .text:
            let utf8 = text.utf8
            // PostgreSQL text cannot hold NUL; the text form makes the server say so.
            guard !utf8.contains(0), let length = Int32(exactly: utf8.count) else { return false }
            append(length, to: &body)
            body += utf8
        case .bytea:
            return false
        case .uuid:
            guard let id = RecordID(text) else { return false }
            append(16 as Int32, to: &body)
            append(id.high, to: &body)
            append(id.low, to: &body)
        case .boolean:
            let value: UInt8
            switch text {
            case "t", "true": value = 1
            case "f", "false": value = 0
            default: return false
            }
            append(1 as Int32, to: &body)
            body.append(value)
        case .smallint:
            guard let value = Int16(text) else { return false }
            append(2 as Int32, to: &body)
            append(value, to: &body)
        case .integer:
            guard let value = Int32(text) else { return false }
            append(4 as Int32, to: &body)
            append(value, to: &body)
        case .bigint:
            guard let value = Int64(text) else { return false }
            append(8 as Int32, to: &body)
            append(value, to: &body)
        }
        return true
    }

    /// Appends one integer element of an integer type, if it fits the type.
    private static func appendElement(_ value: Int64, as element: Element, to body: inout [UInt8]) -> Bool {
        switch element {
        case .smallint:
            guard let value = Int16(exactly: value) else { return false }
            append(2 as Int32, to: &body)
            append(value, to: &body)
        case .integer:
            guard let value = Int32(exactly: value) else { return false }
            append(4 as Int32, to: &body)
            append(value, to: &body)
        case .bigint:
            append(8 as Int32, to: &body)
            append(value, to: &body)
        case .boolean, .bytea, .text, .uuid:
            return false
        }
        return true
    }

    /// Appends `value` big-endian.
    private static func append(_ value: some FixedWidthInteger, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }
}
