public import Foundation
import SyncCore
import FieldModel
public import SyncWire

/// `SyncProtocol/schema.md` and `schema.json`, generated from the field model: every table, its
/// fields with their kinds, ranges, vocabularies, merge policies and who may write them, how a
/// row's buckets follow from its fields, and every state machine with its moves — what a client
/// written from the spec alone needs to build valid changes.
///
/// `fieldsim fixtures schema` writes both files; `SchemaDocumentTests` fails when they drift from
/// the code, as the golden messages do.
public enum SchemaDocument {
    /// The schema described.
    static var schema: Schema { FieldSalesSchema.schema }

    /// Writes `schema.md` and `schema.json` into `directory`.
    public static func write(to directory: URL) throws {
        try markdown().write(to: directory.appendingPathComponent("schema.md"), atomically: true, encoding: .utf8)
        try (json().printed + "\n").write(to: directory.appendingPathComponent("schema.json"), atomically: true, encoding: .utf8)
    }

    // MARK: - The machine-readable twin

    /// The schema as JSON: `revision`, `roles`, `tables` (each with `fields` and `buckets`) and
    /// `state_machines`.
    public static func json() -> JSONValue {
        .fields([
            ("revision", .integer(Int64(schema.revision))),
            ("roles", .array(Role.all.map { .string($0.name) })),
            ("tables", .array(schema.tables.map(table))),
            ("state_machines", .array(Lifecycles.all.map(machine))),
        ])
    }

    static func table(_ table: TableSchema) -> JSONValue {
        .fields([
            ("name", .string(table.name)),
            ("kind", .string(table.kind == .record ? "record" : "append_only")),
            ("tombstones", .string(tombstones(table.tombstones))),
            ("buckets", .array(table.buckets.map { .string(bucket($0)) })),
            ("phone_window", phoneWindow(table.phoneWindow)),
            ("fields", .array(table.fields.map(field))),
        ])
    }

    static func field(_ field: FieldSchema) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(field.name)), ("type", .string(type(field.type))), ("optional", .bool(field.optional)),
            ("merge", .string(policy(field.policy))),
            ("writers", .array(field.access.roles.sorted().map { .string($0.name) })),
            ("writers_at_creation", .array(field.access.creators.sorted().map { .string($0.name) })),
        ]
        if let range = field.range { members.append(("range", .array([.integer(range.lowerBound), .integer(range.upperBound)]))) }
        if let vocabulary = field.vocabulary { members.append(("vocabulary", .array(vocabulary.map(JSONValue.string)))) }
        if field.author != .none { members.append(("names_writer", .string(field.author == .always ? "always" : "when_only_creating"))) }
        return .fields(members)
    }

    static func machine(_ machine: StateMachine) -> JSONValue {
        func moves(_ reopens: Bool) -> JSONValue {
            .array(machine.transitions.filter { $0.reopens == reopens }.map { move in
                .fields([("from", .string(move.from)), ("to", .string(move.to)), ("roles", .array(move.roles.sorted().map { .string($0.name) }))])
            })
        }
        return .fields([
            ("name", .string(machine.order.name)),
            ("states", .array(machine.states.map(JSONValue.string))),
            ("initial", .string(machine.initial)),
            ("creations", .fields(machine.creations.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.sorted().map { .string($0.name) })) })),
            ("moves", moves(false)),
            ("reopens", moves(true)),
        ])
    }

    // MARK: - The prose

    /// The schema as Markdown.
    public static func markdown() -> String {
        var text = """
            # The schema

            Generated from `FieldModel` by `fieldsim fixtures schema` (do not edit by hand; a test fails
            when this file and the code drift apart). `schema.json` beside it says the same for programs.
            Schema revision \(schema.revision).

            How to read it:
            - **type**: `bool`; `integer`; `money` (an integer of minor units); `decimal(s)` (an integer
              of 10^-s units); `text(n)` (at most n UTF-8 bytes, never U+0000); `reference(t)` (the id of
              a row of table t); `timestamp` (milliseconds since the epoch); `blob_reference` (a SHA-256
              in lower-case hex); `state(m)` (a state of machine m, below, with its epoch); `counter`.
              On the wire a value is `{"kind": …, "value": …}` (`encoding.md`).
            - **range**: the values a number, amount, time or counter may hold; outside it the change is
              refused `out_of_range`. **one of**: the only words a text may hold (`invalid_text`).
            - **merge**: `lww` (the greater version wins), `forward` (the state further along wins, a
              later epoch beats an earlier), `counter` (each replica's total, summed), `insert_once` (the
              first write stays) — `merge-rules.md`.
            - **writers**: the roles that may write the field; **at creation** the further roles that may
              set it only when they create the row. A field no role writes is the server's. A device
              writing a field its role may not gets `forbidden_field`, and so does a
              delete by a role that may not write every field the row's devices write.
            - **names the writer**: the value must be the id of the user whose token pushed it
              (`foreign_identity`); "when only creating": for a role that sets it only at creation.
            - **buckets**: `constant(b)`: every row is in b; `field(f, p)`: the bucket `p:<value of f>`;
              `parent(f, t)`: every bucket of the row of t that f names; `referrers(t, through, f, p)`:
              `p:<f>` of each live row of t whose `through` names this row.
            - **phone window**: what a phone keeps of the table's rows (`concepts.md`, "The phone's
              window"). `always`: every row of its buckets. `window(d1, d2…; N days; open s1, s2…)`: a
              row while its state is one of the open ones, or while its date (the first of d1, d2… it
              has; `id` is the time its id carries) is no more than N days before now, or later.
              `with_parent(f)`: a row while the row f names is kept. A row outside its window leaves
              every phone with a remove and is fetched on demand (`fetch_request`).

            Roles: \(Role.all.map { "`\($0.name)`" }.joined(separator: ", ")).

            """
        for table in schema.tables {
            text += "\n## `\(table.name)`\n\n"
            text += "\(table.kind == .record ? "Records" : "Append-only facts"); tombstones: \(tombstones(table.tombstones)); buckets: "
            text += table.buckets.map { "`\(bucket($0))`" }.joined(separator: ", ") + "; phone window: `\(window(table.phoneWindow))`.\n\n"
            text += "| field | type | optional | range or one of | merge | writers | at creation | names the writer |\n"
            text += "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
            text += "| `id` | uuid (UUIDv7, made by the writer) | no | | | | | |\n"
            for field in table.fields {
                let bounds = field.vocabulary.map { $0.map { "`\($0)`" }.joined(separator: ", ") }
                    ?? field.range.map { "\($0.lowerBound) … \($0.upperBound)" } ?? ""
                let writers = field.access.roles.isEmpty ? "server" : field.access.roles.sorted().map(\.name).joined(separator: ", ")
                let author = switch field.author {
                case .none: ""
                case .always: "yes"
                case .whenCreatorOnly: "when only creating"
                }
                text += "| `\(field.name)` | \(type(field.type)) | \(field.optional ? "yes" : "no") | \(bounds) | \(policy(field.policy)) | \(writers) | "
                text += "\(field.access.creators.sorted().map(\.name).joined(separator: ", ")) | \(author) |\n"
            }
        }
        text += "\n## State machines\n\nA state is written as `{\"name\": …, \"epoch\": …}`. A pushed state is judged by `rules.md` (State moves).\n"
        for machine in Lifecycles.all {
            text += "\n### `\(machine.order.name)`\n\n"
            text += "States, weakest first (the merge keeps the one further along): " + machine.states.map { "`\($0)`" }.joined(separator: " < ") + ".\n"
            text += "Created in: " + machine.creations.sorted { $0.key < $1.key }.map { "`\($0.key)` (\($0.value.sorted().map(\.name).joined(separator: ", ")))" }
                .joined(separator: "; ") + ".\n\n"
            text += "| from | to | who | kind |\n| --- | --- | --- | --- |\n"
            for move in machine.transitions {
                text += "| `\(move.from)` | `\(move.to)` | \(move.roles.isEmpty ? "server" : move.roles.sorted().map(\.name).joined(separator: ", ")) | \(move.reopens ? "reopen (epoch + 1)" : "forward") |\n"
            }
        }
        return text
    }

    // MARK: - Names

    static func type(_ type: FieldType) -> String {
        switch type {
        case .bool: "bool"
        case .integer: "integer"
        case .money: "money"
        case .decimal(let scale): "decimal(\(scale))"
        case .text(let maxLength): "text(\(maxLength))"
        case .reference(let table): "reference(\(table))"
        case .timestamp: "timestamp"
        case .blobReference: "blob_reference"
        case .state(let order): "state(\(order.name))"
        case .counter: "counter"
        }
    }

    static func policy(_ policy: MergePolicy) -> String {
        switch policy {
        case .lastWriterWins: "lww"
        case .forwardOnly: "forward"
        case .counter: "counter"
        case .insertOnce: "insert_once"
        }
    }

    static func tombstones(_ policy: TombstonePolicy) -> String {
        switch policy {
        case .deleteWins: "delete wins"
        case .updateWins: "update wins"
        case .none: "never deleted"
        }
    }

    static func window(_ window: PhoneWindow) -> String {
        switch window {
        case .always: "always"
        case .withParent(let field): "with_parent(\(field))"
        case .window(let dates, let days, let open):
            "window(\(dates.joined(separator: ", ")); \(days) days" + (open.isEmpty ? "" : "; open \(open.sorted().joined(separator: ", "))") + ")"
        }
    }

    static func phoneWindow(_ window: PhoneWindow) -> JSONValue {
        switch window {
        case .always: .fields([("keep", .string("always"))])
        case .withParent(let field): .fields([("keep", .string("with_parent")), ("field", .string(field))])
        case .window(let dates, let days, let open):
            .fields([("keep", .string("window")), ("dates", .array(dates.map(JSONValue.string))), ("days", .integer(Int64(days))),
                     ("open", .array(open.sorted().map(JSONValue.string)))])
        }
    }

    static func bucket(_ rule: BucketRule) -> String {
        switch rule {
        case .constant(let bucket): "constant(\(bucket))"
        case .field(let field, let prefix): "field(\(field), \(prefix))"
        case .parent(let field, let table): "parent(\(field), \(table))"
        case .referrers(let table, let through, let field, let prefix): "referrers(\(table), \(through), \(field), \(prefix))"
        }
    }
}
