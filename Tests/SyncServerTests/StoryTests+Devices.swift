import DeviceStore
import FieldModel
import Foundation
import OfficeStore
import PostgresDriver
import SyncClient
import SyncCore
import SyncEngine
import Testing

@testable import SyncServer

/// Devices an admin revokes or wipes, and the oldest app version served (issue 21, item 3), end
/// to end with the real client over HTTP: a revoked phone stops with `device_revoked` and keeps
/// its data; a wiped phone pushes what it still holds, uploads its photos, then deletes its
/// replica; an app older than its platform's minimum is told to update and keeps its outbox.
extension StoryTests {
    @Test("a revoked phone stops; a wiped phone uploads what it holds, then deletes its replica; an old app is told to update")
    func revokedAndWiped() async throws {
        try await W.run("story-revoke") { world in
            let reps = try world.users(.rep)
            let admin = SyncStore.OfficeUser(user: try world.users(.manager)[0], role: .admin, tenant: world.tenant)
            // The first rep's phone is revoked: the next sync stops with device_revoked; its rows stay.
            let lost = try await world.phone(reps[0], role: .rep)
            let lostReplica = try #require(try await lost.store.identity().replica)
            try await world.store.revokeDevice(replica: Int64(lostReplica.rawValue), wipe: false, by: admin)
            await #expect(throws: SyncClientError.self) { _ = try await lost.client.sync() }
            do { _ = try await lost.client.sync() } catch let error as SyncClientError { #expect(error.code == .deviceRevoked, "\(error)") }
            #expect(try await !lost.mondayVisits().isEmpty)
            // Not an admin: refused.
            await #expect(throws: SyncStore.OfficeError.self) {
                try await world.store.revokeDevice(replica: Int64(lostReplica.rawValue), wipe: true, by: try world.office(.manager))
            }
            // The second rep's phone checks in offline with a photo, then is wiped: the check-in and
            // the photo reach the server, and the phone is left empty, a new installation.
            let wiped = try await world.phone(reps[1], role: .rep)
            let visit = try #require(try await wiped.mondayVisits().first)
            let photo = AttachmentFile(bytes: [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 7, count: 2_000), mediaType: "image/jpeg", kind: .photo)
            _ = try await wiped.store.checkIn(visit: visit.id, fix: try wiped.fix(at: visit.location, time: W.at(9)), photos: [photo])
            let installation = try await wiped.store.identity().installation
            let replica = try #require(try await wiped.store.identity().replica)
            try await world.store.revokeDevice(replica: Int64(replica.rawValue), wipe: true, by: admin)
            do {
                _ = try await wiped.client.sync()
                Issue.record("a wiped phone synced")
            } catch let error as SyncClientError {
                #expect(error.code == .deviceWiped, "\(error)")
            }
            #expect(try await world.pool.query("SELECT 1 FROM geo_events WHERE tenant_id = $1 AND visit_id = $2::uuid AND kind = 'check_in'",
                                               [world.tenant.uuidString, visit.id.uuidString]).count == 1)
            let uploaded = try await world.pool.query("""
                SELECT count(*) FROM attachments a JOIN blobs b ON b.tenant_id = a.tenant_id AND b.sha256 = a.sha256 WHERE a.tenant_id = $1 AND a.uploaded_by = $2::uuid
                """, [world.tenant.uuidString, reps[1].uuidString])[0].read(0, as: Int64.self)
            #expect(uploaded == 1)
            let keptVisit = try await wiped.store.record("visits", visit.id), keptCustomer = try await wiped.store.record("customers", visit.customerID)
            #expect(keptVisit == nil && keptCustomer == nil)
            #expect(try await wiped.store.outboxCount() == 0)
            let fresh = try await wiped.store.identity()
            #expect(fresh.replica == nil && fresh.installation != installation)
            // The office's list says so.
            let listed = try await world.store.devices(user: reps[1], by: world.office(.dispatcher)).items
            #expect(listed.contains { $0.replica == Int64(replica.rawValue) && $0.revoked && $0.wipe }, "\(listed)")
            // The operator serves fieldsim apps from 2.0 on: the third rep's 1.0.0 app is told to update, its outbox kept.
            let old = try await world.phone(reps[2], role: .rep)
            try await world.store.setMinimumAppVersion("2.0", platform: "fieldsim", tenant: world.tenant)
            _ = try await old.store.checkIn(visit: try #require(try await old.mondayVisits().first).id,
                                            fix: try old.fix(at: try await old.mondayVisits().first?.location, time: W.at(10)))
            do {
                _ = try await old.client.sync()
                Issue.record("an app older than the minimum synced")
            } catch let error as SyncClientError {
                #expect(error.code == .upgradeRequired, "\(error)")
            }
            #expect(try await old.store.outboxCount() > 0)
            try await world.store.setMinimumAppVersion(nil, platform: "fieldsim", tenant: world.tenant)
            _ = try await old.client.sync()
            #expect(try await old.store.outboxCount() == 0)
        }
    }
}
