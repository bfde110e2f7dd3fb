import Testing

import SyncCore

@Suite("Buckets")
struct BucketTests {
    @Test("a keyed bucket names its prefix and its record; a constant one has no record")
    func parts() {
        let id = RecordID(high: 0x1234, low: 0x5678)
        let territory = Bucket("territory", id)
        #expect(territory.name == "territory:\(id.uuidString)")
        #expect(territory.prefix == "territory")
        #expect(territory.key == id)
        #expect(!territory.isPersonal)
        let catalog: Bucket = "catalog"
        #expect(catalog.prefix == "catalog")
        #expect(catalog.key == nil)
        #expect(Bucket.personal(id).isPersonal)
        #expect(Bucket.personal(id) == Bucket("user:\(id.uuidString)"))
        // A name that came from the wire with a malformed key is still a bucket, with no record.
        #expect(Bucket("territory:not-a-uuid").key == nil)
    }

    @Test("buckets order by name, as the feed and the device's cursors do")
    func order() {
        let names = ["user:b", "catalog", "territory:a"]
        let sorted = names.map { Bucket($0) }.sorted().map(\.name)
        #expect(sorted == names.sorted())
    }
}
