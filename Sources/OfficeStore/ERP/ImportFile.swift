import Foundation
import SyncWire

/// A master-data file as rows of named cells, each row with the line it starts on (issue 20,
/// item 1): CSV (RFC 4180: a header row, fields separated by commas, quoted with `"` where they
/// hold a comma, a quote or a line break, `""` for a quote inside) or JSON Lines (one object per
/// line, its members the columns; strings, numbers, booleans or null). An empty cell or a JSON
/// null is a missing value. Blank lines are skipped; a byte-order mark is ignored.
public struct ImportFile: Sendable {
    /// A file format.
    public enum Format: String, Sendable, CaseIterable {
        /// Comma-separated values with a header row.
        case csv
        /// One JSON object per line.
        case jsonl
    }

    /// One data row: the line it starts on (1-based, the CSV header being line 1) and its cells.
    public struct Row: Sendable {
        /// The line the row starts on.
        public var line: Int
        /// The cells by column; a missing value is absent.
        public var cells: [String: String]
    }

    /// The columns named (the header's, or every member seen in JSON Lines), in order.
    public var columns: [String]
    /// The data rows, in order.
    public var rows: [Row]

    /// A problem with the file, at a line and column (`nil`: the whole line or file).
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The line (1-based), the column, and what is wrong.
        public var line: Int, column: String?, message: String

        /// A problem.
        public init(line: Int, column: String? = nil, _ message: String) {
            self.line = line
            self.column = column
            self.message = message
        }

        public var description: String { "line \(line)" + (column.map { ", column \($0)" } ?? "") + ": \(message)" }
    }

    /// Parses `bytes` as `format`.
    ///
    /// - Throws: the problems that make the file unreadable (not UTF-8, an unclosed quote, a row
    ///   with more cells than the header, a line that is not a JSON object), each at its line.
    public init(_ bytes: [UInt8], format: Format) throws(ImportProblems) {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        guard let text = String(validating: body, as: UTF8.self) else { throw ImportProblems([Problem(line: 1, "the file is not UTF-8 text")]) }
        switch format {
        case .csv: (columns, rows) = try Self.csv(text)
        case .jsonl: (columns, rows) = try Self.jsonLines(text)
        }
    }

    static func csv(_ text: String) throws(ImportProblems) -> ([String], [Row]) {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = [], field = "", quoted = false, inQuotes = false, line = 1, recordLine = 1
        var characters = Array(text.unicodeScalars)[...]
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !quoted) { records.append((recordLine, fields)) }
            (fields, field, quoted) = ([], "", false)
        }
        while let scalar = characters.popFirst() {
            if inQuotes {
                if scalar == "\"" {
                    if characters.first == "\"" { characters.removeFirst(); field.unicodeScalars.append("\"") } else { inQuotes = false }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty && !quoted: (inQuotes, quoted) = (true, true)
            case ",": fields.append(field); (field, quoted) = ("", false)
            case "\r" where characters.first == "\n": break
            case "\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default: field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes { throw ImportProblems([Problem(line: recordLine, "a quoted field is not closed")]) }
        if !field.isEmpty || !fields.isEmpty || quoted { endRecord() }
        guard let header = records.first else { throw ImportProblems([Problem(line: 1, "the file is empty: a CSV file starts with its header row")]) }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var problems: [Problem] = []
        if let repeated = Dictionary(grouping: columns, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            problems.append(Problem(line: 1, column: repeated, "the column is named twice"))
        }
        var rows: [Row] = []
        for record in records.dropFirst() {
            guard record.fields.count <= columns.count else {
                problems.append(Problem(line: record.line, "\(record.fields.count) fields, but the header names \(columns.count) columns"))
                continue
            }
            var cells: [String: String] = [:]
            for (column, value) in zip(columns, record.fields) where !value.isEmpty { cells[column] = value }
            rows.append(Row(line: record.line, cells: cells))
        }
        if !problems.isEmpty { throw ImportProblems(problems) }
        return (columns, rows)
    }

    static func jsonLines(_ text: String) throws(ImportProblems) -> ([String], [Row]) {
        var columns: [String] = [], seen: Set<String> = []
        var rows: [Row] = [], problems: [Problem] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.hasSuffix("\r") ? line.dropLast() : line[...]
            guard !content.allSatisfy(\.isWhitespace) else { continue }
            guard case .object(let members)? = try? JSONValue.parse(Array(content.utf8)) else {
                problems.append(Problem(line: index + 1, "not a JSON object"))
                continue
            }
            var cells: [String: String] = [:]
            for member in members {
                if seen.insert(member.key).inserted { columns.append(member.key) }
                switch member.value {
                case .null: continue
                case .string(let text): if !text.isEmpty { cells[member.key] = text }
                case .number(let number): cells[member.key] = number
                case .bool(let flag): cells[member.key] = flag ? "true" : "false"
                case .array, .object: problems.append(Problem(line: index + 1, column: member.key, "a cell is a string, a number, a boolean or null"))
                }
            }
            rows.append(Row(line: index + 1, cells: cells))
        }
        if !problems.isEmpty { throw ImportProblems(problems) }
        return (columns, rows)
    }
}

/// Everything wrong with an import, by line and column; nothing of the file was applied.
public struct ImportProblems: Error, Sendable, CustomStringConvertible {
    /// The problems, in line order.
    public var problems: [ImportFile.Problem]

    /// Problems to report.
    public init(_ problems: [ImportFile.Problem]) {
        self.problems = problems.sorted { ($0.line, $0.column ?? "") < ($1.line, $1.column ?? "") }
    }

    public var description: String {
        let shown = problems.prefix(20).map(\.description).joined(separator: "\n")
        return problems.count > 20 ? shown + "\n… and \(problems.count - 20) more" : shown
    }
}
