public import Foundation

/// A data set as a list of tables of text cells, written as one file per table.
///
/// The file format (documented in `Fixtures/demo/README.md`) is PostgreSQL's COPY text format
/// with a header line: the first line names the columns, separated by tabs; each further line is
/// one row, cells separated by tabs, `\N` for NULL, and backslash escapes for tab, newline,
/// carriage return and backslash. So a file loads into PostgreSQL with a plain `COPY … FROM STDIN`
/// and reads easily with any TSV tool.
public struct DemoDataSet: Sendable, Equatable {
    /// One table.
    public struct Table: Sendable, Equatable {
        /// The table's name, which is also its file's name without `.tsv`.
        public var name: String
        /// The column names.
        public var columns: [String]
        /// The rows; `nil` is NULL.
        public var rows: [[String?]]

        /// Creates a table.
        public init(name: String, columns: [String], rows: [[String?]] = []) {
            self.name = name
            self.columns = columns
            self.rows = rows
        }

        /// Appends a row; it must have one cell per column.
        public mutating func append(_ row: [String?]) {
            precondition(row.count == columns.count, "\(name): a row of \(row.count) cells for \(columns.count) columns")
            rows.append(row)
        }

        /// The table in the file format.
        public var fileContents: String {
            var text = columns.joined(separator: "\t") + "\n"
            for row in rows {
                text += row.map { $0.map(Self.escape) ?? "\\N" }.joined(separator: "\t") + "\n"
            }
            return text
        }

        /// Parses a file's contents.
        public init(name: String, fileContents: String) throws {
            var lines = fileContents.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            guard let header = lines.first, !header.isEmpty else { throw DemoDataError("\(name).tsv has no header line") }
            self.init(name: name, columns: header.split(separator: "\t", omittingEmptySubsequences: false).map(String.init))
            for (number, line) in lines.dropFirst().enumerated() {
                let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0 == "\\N" ? nil : Self.unescape($0) }
                guard cells.count == columns.count else {
                    throw DemoDataError("\(name).tsv line \(number + 2) has \(cells.count) cells for \(columns.count) columns")
                }
                rows.append(cells)
            }
        }

        static func escape(_ text: String) -> String {
            var result = ""
            for character in text {
                switch character {
                case "\\": result += "\\\\"
                case "\t": result += "\\t"
                case "\n": result += "\\n"
                case "\r": result += "\\r"
                default: result.append(character)
                }
            }
            return result
        }

        static func unescape(_ text: Substring) -> String {
            var result = ""
            var escaping = false
            for character in text {
                if escaping {
                    switch character {
                    case "t": result += "\t"
                    case "n": result += "\n"
                    case "r": result += "\r"
                    default: result.append(character)
                    }
                    escaping = false
                } else if character == "\\" {
                    escaping = true
                } else {
                    result.append(character)
                }
            }
            return result
        }
    }

    /// The tables, in an order in which every reference points to an earlier table.
    public var tables: [Table]

    /// Creates a data set from tables.
    public init(tables: [Table]) { self.tables = tables }

    /// The table called `name`.
    public subscript(name: String) -> Table? { tables.first { $0.name == name } }

    /// Writes one `<table>.tsv` per table into `directory`, and `tables.txt` listing the load order.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for table in tables {
            try Data(table.fileContents.utf8).write(to: directory.appendingPathComponent("\(table.name).tsv"))
        }
        try Data((tables.map(\.name).joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("tables.txt"))
    }

    /// Reads a data set written by ``write(to:)``.
    public init(contentsOf directory: URL) throws {
        let order = try String(contentsOf: directory.appendingPathComponent("tables.txt"), encoding: .utf8)
        tables = try order.split(separator: "\n").map { name in
            let contents = try String(contentsOf: directory.appendingPathComponent("\(name).tsv"), encoding: .utf8)
            return try Table(name: String(name), fileContents: contents)
        }
    }
}

/// A data set file that does not parse.
public struct DemoDataError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, with file and line.
    public var description: String
    init(_ description: String) { self.description = description }
}
