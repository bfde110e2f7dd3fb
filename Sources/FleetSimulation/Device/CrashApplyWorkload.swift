public import SyncCore
public import SyncWire

/// A deterministic sequence of pull pages for crash tests: page `n` adds customers `n/0`…`n/29`
/// and removes the even customers of page `n − 2`. After applying pages 1…c a store holds exactly
/// ``expectedNames(afterCursor:)``, so a store killed mid-apply can be checked against its cursor.
public enum CrashApplyWorkload {
    /// The bucket the pages belong to.
    public static let bucket: Bucket = "crash"
    static let perPage = 30
    static let clock = HLC(milliseconds: 1_796_000_000_000)

    static func id(_ page: Int, _ index: Int) -> RecordID {
        RecordID(high: 0x0190_0000_0000_7000 | UInt64(page) << 16, low: 0x8000_0000_0000_0000 | UInt64(index))
    }

    /// Page `n` (from 1).
    public static func page(_ n: Int) -> BucketPage {
        let version = Version(clock: HLC(rawValue: clock.rawValue + UInt64(n) << 16), replica: .server)
        let snapshots = (0..<perPage).map { index in
            RecordSnapshot(ref: RecordRef(table: "customers", record: id(n, index)),
                           state: RecordState(fields: ["name": FieldState(value: .text("crash \(n)/\(index)"), version: version)]))
        }
        let removes = n > 2 ? stride(from: 0, to: perPage, by: 2).map { RecordRef(table: "customers", record: id(n - 2, $0)) } : []
        return BucketPage(bucket: bucket, kind: .changes, snapshots: snapshots, removes: removes, cursor: UInt64(n), hasMore: true)
    }

    /// The customers' names a store holds after pages 1…`cursor`.
    public static func expectedNames(afterCursor cursor: Int) -> Set<String> {
        var names = Set<String>()
        for page in stride(from: 1, through: cursor, by: 1) {
            for index in 0..<perPage where !(page <= cursor - 2 && index % 2 == 0) {
                names.insert("crash \(page)/\(index)")
            }
        }
        return names
    }

    /// The server clock that goes with page `n`.
    public static func serverClock(_ n: Int) -> HLC { HLC(rawValue: clock.rawValue + UInt64(n) << 16) }
}
