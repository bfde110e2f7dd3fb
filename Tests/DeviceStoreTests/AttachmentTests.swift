import DemoData
import FieldModel
import Foundation
import SyncCore
import Testing
@testable import DeviceStore

/// Photo and signature bytes on the phone: kept with their record, bounded, evicted under the
/// budget only once the server holds them.
@Suite("Attachments on the phone")
struct AttachmentTests {
    static func file(_ seed: UInt8, count: Int = 4_000) -> AttachmentFile {
        AttachmentFile(bytes: [0xFF, 0xD8, 0xFF, seed] + (0..<count - 4).map { UInt8(truncatingIfNeeded: $0 &* Int(seed)) }, mediaType: "image/jpeg", kind: .photo)
    }

    @Test("a resolution with the customer's signature: the record, the work order and the bytes in one transaction; too large or empty changes nothing")
    func signatureWithItsRecord() async throws {
        let fixture = try await DeviceStoreFixture.make(role: .technician)
        defer { fixture.remove() }
        let workOrder = RecordID(try #require(fixture.data["work_orders"]).rows[0][0]!)!
        let bytes = [UInt8](repeating: 7, count: 48_213)
        let signature = AttachmentFile(bytes: bytes, mediaType: "image/png", kind: .signature)
        let report = try await fixture.store.setResolution(workOrder: workOrder, resolution: "Replaced the door seal.", signature: signature)
        let changes = try #require(report.changeSet).changes
        #expect(Set(changes.map(\.table)) == ["attachments", "work_orders"])
        let attachment = try #require(changes.first { $0.table == "attachments" }).record
        let state = try #require(try await fixture.store.record("work_orders", workOrder))
        #expect(state.fields["signature_attachment_id"]?.value == .id(attachment))
        #expect(state.text("resolution") == "Replaced the door seal.")
        #expect(try await fixture.store.record("attachments", attachment)?.text("sha256") == signature.sha256)
        #expect(try await fixture.store.attachmentBytes(sha256: signature.sha256) == bytes)
        #expect(try await fixture.store.attachments().map(\.status) == [.waitingForRecord])
        #expect(try await fixture.store.dueUploads().isEmpty, "not before the server answers the change set")

        let outbox = try await fixture.store.outboxCount()
        let tooLarge = await #expect(throws: StoreError.self) {
            try await fixture.store.setResolution(workOrder: workOrder, resolution: "Again.",
                                                  signature: AttachmentFile(bytes: [UInt8](repeating: 1, count: Schema.blobBytesMax + 1), mediaType: "image/png", kind: .signature))
        }
        #expect(tooLarge?.code == .tooLarge)
        #expect(tooLarge?.message.contains("16 MiB") == true)
        let empty = await #expect(throws: StoreError.self) {
            try await fixture.store.setResolution(workOrder: workOrder, resolution: "Again.", signature: AttachmentFile(bytes: [], mediaType: "image/png", kind: .signature))
        }
        #expect(empty?.code == .invalidArgument)
        #expect(try await fixture.store.outboxCount() == outbox)
        #expect(try await fixture.store.attachments().count == 1)
        #expect(try await fixture.store.record("work_orders", workOrder)?.text("resolution") == "Replaced the door seal.")
    }

    @Test("the SHA-256 is the standard one, and media types are read from the first bytes")
    func hashAndMediaType() {
        #expect(AttachmentFile.sha256(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(AttachmentFile.mediaType(sniffing: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == "image/png")
        #expect(AttachmentFile.mediaType(sniffing: Array("%PDF-1.7".utf8)) == "application/pdf")
        #expect(AttachmentFile.mediaType(sniffing: Array("RIFF\0\0\0\0WEBPVP8 ".utf8)) == "image/webp")
        #expect(AttachmentFile.mediaType(sniffing: [1, 2]) == "application/octet-stream")
    }

    @Test("under the budget, uploaded bytes go least recently used first; bytes not uploaded never go; fetched bytes must hash to their name")
    func budget() async throws {
        let fixture = try await DeviceStoreFixture.make(role: .technician, attachmentBudgetBytes: 9_000)
        defer { fixture.remove() }
        let workOrder = RecordID(try #require(fixture.data["work_orders"]).rows[0][0]!)!
        let (a, b, c) = (Self.file(3), Self.file(5), Self.file(7))
        for file in [a, b, c] {
            _ = try await fixture.store.setResolution(workOrder: workOrder, resolution: "Serviced.", signature: file)
            fixture.clock.set(fixture.clock.now() + 1_000)
        }
        #expect(try await fixture.store.attachmentBytesHeld() == 12_000, "over the budget, but nothing is uploaded yet")

        try await fixture.store.uploadSucceeded(sha256: a.sha256)
        #expect(try await fixture.store.attachmentBytes(sha256: a.sha256) == nil, "the only uploaded bytes go")
        #expect(try await fixture.store.attachmentBytesHeld() == 8_000)
        try await fixture.store.uploadSucceeded(sha256: b.sha256)
        try await fixture.store.uploadSucceeded(sha256: c.sha256)
        fixture.clock.set(fixture.clock.now() + 1_000)
        #expect(try await fixture.store.attachmentBytes(sha256: b.sha256) == b.bytes, "b is used again: c is now the least recent")

        try await fixture.store.keepFetched(sha256: a.sha256, mediaType: "image/jpeg", bytes: a.bytes)
        #expect(try await fixture.store.attachmentBytes(sha256: a.sha256) == a.bytes)
        #expect(try await fixture.store.attachmentBytes(sha256: c.sha256) == nil)
        #expect(try await fixture.store.attachmentBytes(sha256: b.sha256) == b.bytes)
        #expect(try await fixture.store.attachmentBytesHeld() == 8_000)
        let statuses = try await fixture.store.attachments().map(\.status)
        #expect(statuses.filter { $0 == .onServer }.count == 1 && statuses.filter { $0 == .uploaded }.count == 2)

        let wrong = await #expect(throws: StoreError.self) { try await fixture.store.keepFetched(sha256: c.sha256, mediaType: "image/jpeg", bytes: b.bytes) }
        #expect(wrong?.code == .invalidArgument)
    }
}
