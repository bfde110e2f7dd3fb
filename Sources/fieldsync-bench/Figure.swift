import Foundation
import SyncWire

/// One measured figure: FieldSync's value, the baseline measured in the same run, and their ratio
/// (always `value / baseline`; the target says which way is good).
struct Figure: Sendable {
    /// A stable name (`device_apply`, `wire_bytes_vs_loro`, …).
    var name: String
    /// FieldSync's figure.
    var value: Double
    /// The baseline's figure, when there is one (`nil`: it could not be measured; see ``note``).
    var baseline: Double?
    /// The unit of ``value`` and ``baseline``.
    var unit: String
    /// What the baseline is, for the reader.
    var against: String
    /// The target, as text (`ratio ≥ 0.5`, `value < 2`, …), if any.
    var target: String?
    /// Whether the target is met (`nil` without a target or a baseline).
    var met: Bool?
    /// Anything the reader must know to read the figure.
    var note: String?

    /// `value / baseline`.
    var ratio: Double? {
        guard let baseline, baseline != 0 else { return nil }
        return value / baseline
    }

    /// A figure whose target is a bound on the ratio.
    static func ratio(_ name: String, _ value: Double, _ baseline: Double?, unit: String, against: String,
                      atLeast: Double? = nil, below: Double? = nil, atMost: Double? = nil, note: String? = nil) -> Figure {
        var figure = Figure(name: name, value: value, baseline: baseline, unit: unit, against: against, note: note)
        if let atLeast { figure.target = "ratio ≥ \(format(atLeast))"; figure.met = figure.ratio.map { $0 >= atLeast } }
        if let below { figure.target = "ratio < \(format(below))"; figure.met = figure.ratio.map { $0 < below } }
        if let atMost { figure.target = "ratio ≤ \(format(atMost))"; figure.met = figure.ratio.map { $0 <= atMost } }
        return figure
    }

    static func format(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        if abs(number) >= 100 { return String(format: "%.0f", number) }
        if abs(number) >= 1 { return String(format: "%.2f", number) }
        return String(format: "%.3f", number)
    }

    /// The figures as an aligned text table.
    static func table(_ figures: [Figure]) -> String {
        let header = ["figure", "FieldSync", "baseline", "ratio", "unit", "target", "met", "baseline is"]
        var rows = [header]
        for figure in figures {
            rows.append([
                figure.name, format(figure.value), figure.baseline.map(format) ?? "–", figure.ratio.map(format) ?? "–", figure.unit,
                figure.target ?? "", figure.met.map { $0 ? "yes" : "NO" } ?? "", figure.against,
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
        var lines = rows.map { row in
            row.indices.map { column in
                let cell = row[column]
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return (1...3).contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        lines.insert(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)), at: 1)
        let notes = figures.compactMap { figure in figure.note.map { "- \(figure.name): \($0)" } }
        return (lines + (notes.isEmpty ? [] : ["", "Notes:"] + notes)).joined(separator: "\n")
    }

    /// The figures as one JSON array.
    static func json(_ figures: [Figure]) -> String {
        func number(_ value: Double?) -> JSONValue {
            guard let value, value.isFinite else { return .null }
            return .number(String(format: "%.6g", value))
        }
        return JSONValue.array(figures.map { figure in
            .object([
                .init("name", .string(figure.name)), .init("value", number(figure.value)), .init("baseline", number(figure.baseline)),
                .init("ratio", number(figure.ratio)), .init("unit", .string(figure.unit)), .init("against", .string(figure.against)),
                .init("target", figure.target.map(JSONValue.string) ?? .null), .init("met", figure.met.map(JSONValue.bool) ?? .null),
                .init("note", figure.note.map(JSONValue.string) ?? .null),
            ])
        }).printed
    }
}

/// What the machine is, for the results' header.
enum Machine {
    static func describe() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("MemTotal") }?
            .split(whereSeparator: { $0 == " " }).dropFirst().first.flatMap { Int($0) }.map { "\($0 / 1_048_576) GiB" } ?? "unknown memory"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(memory)"
    }

    /// This process's peak resident set (VmHWM), in bytes.
    static func peakResidentBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        let kilobytes = line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0
        return kilobytes * 1024
    }
}
