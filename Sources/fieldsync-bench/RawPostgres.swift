import CLibPQ
import Foundation

/// PostgreSQL through libpq and nothing else: the server-side baseline (text parameters, one
/// round trip per statement, `COPY … TO STDOUT` for bulk reads).
final class RawPostgres {
    private let connection: OpaquePointer

    init(_ connectionString: String) throws {
        guard let connection = PQconnectdb(connectionString), PQstatus(connection) == CONNECTION_OK else {
            throw BenchError("libpq: cannot connect")
        }
        self.connection = connection
        try query("SET client_min_messages TO warning")
    }

    deinit { PQfinish(connection) }

    /// Runs `sql` with text parameters; returns the rows as text (`nil` for NULL).
    @discardableResult
    func query(_ sql: String, _ parameters: [String?] = []) throws -> [[String?]] {
        var pointers: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in pointers { free(pointer) } }
        let result = pointers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, buffer.count)) { values in
                PQexecParams(connection, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : values, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw BenchError("libpq: \(String(cString: PQresultErrorMessage(result)))")
        }
        var rows: [[String?]] = []
        for row in 0..<PQntuples(result) {
            rows.append((0..<PQnfields(result)).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
        return rows
    }

    /// Runs `COPY (…) TO STDOUT` and hands each line (without its newline) to `line`; returns the bytes received.
    @discardableResult
    func copyOut(_ sql: String, _ line: ([UInt8]) throws -> Void) throws -> Int {
        let start = PQexec(connection, sql)
        guard PQresultStatus(start) == PGRES_COPY_OUT else {
            defer { PQclear(start) }
            throw BenchError("libpq: \(String(cString: PQresultErrorMessage(start)))")
        }
        PQclear(start)
        var bytes = 0
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let count = PQgetCopyData(connection, &buffer, 0)
            if count == -1 { break }
            guard count > 0, let buffer else { throw BenchError("libpq: COPY failed: \(String(cString: PQerrorMessage(connection)))") }
            bytes += Int(count)
            let data = UnsafeRawBufferPointer(start: buffer, count: Int(count))
            try line(Array(data.prefix(Int(count) - (data.last == 10 ? 1 : 0))))
            PQfreemem(buffer)
        }
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw BenchError("libpq: \(String(cString: PQresultErrorMessage(result)))") }
        }
        return bytes
    }

    /// Runs `COPY … FROM STDIN` and sends `bytes` (in the format the statement names); returns the rows copied.
    @discardableResult
    func copyIn(_ sql: String, _ bytes: [UInt8]) throws -> Int {
        let start = PQexec(connection, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            defer { PQclear(start) }
            throw BenchError("libpq: \(String(cString: PQresultErrorMessage(start)))")
        }
        PQclear(start)
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + 1 << 20, bytes.count)
            let sent = bytes[offset..<end].withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { PQputCopyData(connection, $0, Int32(buffer.count)) }
            }
            guard sent == 1 else { throw BenchError("libpq: COPY failed: \(String(cString: PQerrorMessage(connection)))") }
            offset = end
        }
        guard PQputCopyEnd(connection, nil) == 1 else { throw BenchError("libpq: COPY failed: \(String(cString: PQerrorMessage(connection)))") }
        var rows = 0
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw BenchError("libpq: \(String(cString: PQresultErrorMessage(result)))") }
            rows += Int(String(cString: PQcmdTuples(result))) ?? 0
        }
        return rows
    }

    /// COPY's text format: a line's fields, unescaped (`\N` is NULL).
    static func fields(_ line: [UInt8]) -> [String?] {
        var fields: [String?] = []
        var current: [UInt8] = []
        var index = 0
        var isNull = false
        func finish() {
            fields.append(isNull ? nil : String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
            isNull = false
        }
        while index < line.count {
            let byte = line[index]
            if byte == 9 {
                finish()
            } else if byte == 92, index + 1 < line.count {  // backslash
                index += 1
                switch line[index] {
                case UInt8(ascii: "N"): isNull = true
                case UInt8(ascii: "t"): current.append(9)
                case UInt8(ascii: "n"): current.append(10)
                case UInt8(ascii: "r"): current.append(13)
                default: current.append(line[index])
                }
            } else {
                current.append(byte)
            }
            index += 1
        }
        finish()
        return fields
    }
}
