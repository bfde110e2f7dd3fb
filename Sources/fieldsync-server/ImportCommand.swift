import ArgumentParser
import FieldRules
import Foundation
import OfficeStore
import PostgresDriver
import SyncCore
import SyncEngine

extension FieldSyncServerCommand {
    /// `fieldsync-server import KIND FILE`: master data from the company's ERP, straight into the
    /// database (SyncProtocol/imports.md).
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load customers, contacts, products, price lists or balances from a CSV or JSON Lines file (all or nothing; SyncProtocol/imports.md).")

        @Argument(help: "customers, contacts, products, price-lists or balances.")
        var kind: String

        @Argument(help: "The file: .csv, or .jsonl / .ndjson for JSON Lines.")
        var file: String

        @Option(help: "The file's format, when its name does not say: csv or jsonl.")
        var format: String?

        @Option(help: "The tenant's id.")
        var tenant: String

        @Option(help: "A postgresql:// URL or libpq key=value string (or set FIELDSYNC_DATABASE_URL).")
        var databaseURL: String?

        func run() async throws {
            guard let kind = ImportKind(rawValue: kind) else { throw ValidationError("the kind is one of \(ImportKind.allCases.map(\.rawValue).joined(separator: ", "))") }
            guard let tenant = RecordID(tenant) else { throw ValidationError("--tenant must be a UUID") }
            let format = try Self.format(format, file: file)
            guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let parsed: ImportFile
            do {
                parsed = try ImportFile(Array(bytes), format: format)
            } catch {
                Self.refuse("\(error.problems.count) problem(s):\n\(error)")
            }
            let pool = try PostgresPool(.init(connectionString: try resolveDatabaseURL(databaseURL), connectionsMax: 2))
            let outcome: Result<SyncStore.ImportReport, any Error>
            do {
                outcome = .success(try await SyncStore(pool: pool, domain: FieldSalesDomain()).importMasterData(kind, parsed, tenant: tenant))
            } catch {
                outcome = .failure(error)
            }
            await pool.close()
            switch outcome {
            case .success(let report):
                print("\(kind.rawValue): \(report.rows) rows; created \(report.created), updated \(report.updated), unchanged \(report.unchanged)")
            case .failure(let problems as ImportProblems):
                Self.refuse("\(problems.problems.count) problem(s):\n\(problems)")
            case .failure(let error as SyncStore.OfficeError):
                Self.refuse(error.message)
            case .failure(let error):
                throw error
            }
        }

        static func refuse(_ message: String) -> Never {
            FileHandle.standardError.write(Data("nothing imported; \(message)\n".utf8))
            Foundation.exit(65)
        }

        static func format(_ given: String?, file: String) throws -> ImportFile.Format {
            if let given {
                guard let format = ImportFile.Format(rawValue: given) else { throw ValidationError("--format is csv or jsonl") }
                return format
            }
            let name = file.lowercased()
            if name.hasSuffix(".csv") { return .csv }
            if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") { return .jsonl }
            throw ValidationError("give --format csv or jsonl (the file's name does not say)")
        }
    }
}
