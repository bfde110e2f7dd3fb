import ArgumentParser
import DeviceStore
import Foundation
import SyncClient
import SyncCore
import SyncWire

/// `fieldsim device attachments` and `device attachment ID`: the photos and signatures on the
/// phone, where their bytes are, and the bytes themselves (fetched from the server on demand).
extension DeviceCommand {
    /// The file at `path` as a photo or signature, its media type read from its first bytes.
    static func attachment(_ path: String, kind: AttachmentFile.Kind) throws -> AttachmentFile {
        let url = URL(fileURLWithPath: path)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        guard let size else { throw CLIError(.usage, "no file \(path) to attach as a \(kind)") }
        guard size <= Schema.blobBytesMax else {
            throw CLIError(.refused, "\(path) has \(size) bytes; a \(kind) has at most \(Schema.blobBytesMax >> 20) MiB")
        }
        let bytes = [UInt8](try Data(contentsOf: url))
        return AttachmentFile(bytes: bytes, mediaType: AttachmentFile.mediaType(sniffing: bytes), kind: kind)
    }

    struct Attachments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the photos and signatures on the phone and where their bytes are (waiting to upload, uploaded, on the server only).")
        @OptionGroup var common: Common

        func run() async throws {
            try await DeviceCommand.run(common, { _, _, store in
                .array(try await store.attachments().map { attachment in
                    JSONValue.fields([("id", .string(attachment.id.uuidString)), ("kind", .string(attachment.kind)), ("media_type", .string(attachment.mediaType)),
                                      ("size_bytes", .number(String(attachment.sizeBytes))), ("sha256", .string(attachment.sha256)),
                                      ("bytes_here", .bool(attachment.bytesHere)), ("status", .string(attachment.status.description))])
                })
            }, text: { answer in
                guard case .array(let attachments) = answer, !attachments.isEmpty else { return "no photos or signatures on this phone" }
                return attachments.map { attachment in
                    let size = attachment["size_bytes"].flatMap { if case .number(let text) = $0 { text } else { nil } } ?? "?"
                    return "\(attachment["id"]?.string ?? "")  \(attachment["kind"]?.string ?? "")  \(attachment["media_type"]?.string ?? "")  \(size) bytes  \(attachment["status"]?.string ?? "")"
                }.joined(separator: "\n")
            })
        }
    }

    struct Attachment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write an attachment's bytes to a file: the phone's copy, else fetched from the server (and kept under the phone's storage budget).")
        @OptionGroup var common: Common
        @Argument(help: "The attachment's id (from `device attachments`).") var attachment: String
        @Option(help: "Where to write the bytes.") var output: String

        func run() async throws {
            try await DeviceCommand.run(common, { home, config, store in
                let id = try DeviceCommand.id(attachment, "the attachment")
                let bytes = try await DeviceCommand.online(home, config, store) { try await $0.attachmentBytes(id) }
                try Data(bytes).write(to: URL(fileURLWithPath: output))
                return JSONValue.fields([("id", .string(id.uuidString)), ("size_bytes", .number(String(bytes.count))), ("output", .string(output))])
            }, text: { answer in
                "wrote \(answer["size_bytes"].flatMap { if case .number(let text) = $0 { text } else { nil } } ?? "?") bytes to \(answer["output"]?.string ?? "")"
            })
        }
    }
}
