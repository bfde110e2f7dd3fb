import FieldModel
import SyncCore
import FleetSimulation
import SyncWire

extension Bench {
    /// 6. Bytes on the wire per change for the mix, in pushes of 100 change sets as the client
    /// sends them: FieldSync's compressed frames against the same pushes as JSON with gzip, and
    /// against Loro's and Yrs's updates for the same field writes (one update per push), deflated
    /// as our frames are; and the same bytes per field update.
    func wireSize(_ mix: ChangeMix, peers: PeerEngines) throws -> [Figure] {
        Self.log("wire size: \(mix.changes) changes")
        var frames = 0
        var plain = 0
        var json = 0
        for push in mix.pushes() {
            let message = Message.pushRequest(PushRequest(batch: push[0].id.uuid, changeSets: push))
            frames += try Frame.encode(message, compress: true).count
            plain += try Frame.encode(message, compress: false).count
            json += try Deflate.compress(Array(Frame.json(message).compact.utf8), level: 6, gzip: true).count
        }
        let changes = Double(mix.changes)
        let fieldUpdates = Double(mix.changeSets.flatMap(\.changes).reduce(0) { count, change in
            if case .write(let writes) = change.operation { count + writes.count } else { count + 1 }  // a delete is one update
        })
        let perChange = Double(frames) / changes
        var figures: [Figure] = [
            .ratio("wire_bytes_vs_json_gzip", perChange, Double(json) / changes, unit: "bytes/change", against: "the same pushes as JSON, gzip -6", below: 1,
                   note: "FieldSync's frames are \(Figure.format(Double(plain) / changes)) bytes/change before compression"),
            .ratio("wire_bytes_per_field_update", Double(frames) / fieldUpdates, Double(json) / fieldUpdates, unit: "bytes/field", against: "the same pushes as JSON, gzip -6",
                   below: 1, note: "\(Int(fieldUpdates)) field updates (a delete counts one) in \(mix.changes) changes"),
        ]
        switch peers {
        case .measured(let loro, let yrs):
            figures.append(.ratio("wire_bytes_vs_loro", perChange, Double(loro.deflatedBytes) / changes, unit: "bytes/change",
                                  against: "Loro \(loro.version) updates, one per push, deflated as our frames", below: 1,
                                  note: "Loro's updates are \(Figure.format(Double(loro.bytes) / changes)) bytes/change before deflate"))
            figures.append(.ratio("wire_bytes_vs_yrs", perChange, Double(yrs.deflatedBytes) / changes, unit: "bytes/change",
                                  against: "Yrs (\(yrs.version)) updates, one per push, deflated as our frames", below: 1,
                                  note: "Yrs's updates are \(Figure.format(Double(yrs.bytes) / changes)) bytes/change before deflate"))
        case .unavailable(let reason):
            figures.append(.ratio("wire_bytes_vs_loro", perChange, nil, unit: "bytes/change", against: "Loro updates", below: 1, note: reason))
            figures.append(.ratio("wire_bytes_vs_yrs", perChange, nil, unit: "bytes/change", against: "Yrs updates", below: 1, note: reason))
        }
        return figures
    }

    /// 7. Changes merged per second in memory by the one merge (``Merge/apply``) into a map of
    /// record states, against Loro importing the same changes' updates into a new document.
    func mergeKernel(_ mix: ChangeMix, peers: PeerEngines) -> [Figure] {
        Self.log("merge kernel: \(mix.changes) changes × \(scale.kernelRepeats)")
        let changes = mix.changeSets.flatMap(\.changes)
        let tables = Dictionary(uniqueKeysWithValues: FieldSalesSchema.schema.tables.map { ($0.name, $0) })
        var best = Double.infinity
        var held = 0
        for _ in 0..<scale.kernelRepeats {
            let start = ContinuousClock.now
            var states: [String: [RecordID: RecordState]] = [:]
            for change in changes {
                let outcome = Merge.apply(change, to: states[change.table]?[change.record], table: tables[change.table]!)
                states[change.table, default: [:]][change.record] = outcome.state
            }
            best = min(best, Self.seconds(ContinuousClock.now - start))
            held = states.values.reduce(0) { $0 + $1.count }
        }
        precondition(held > 0, "the merge kept no record")
        let rate = Double(changes.count) / best
        switch peers {
        case .measured(let loro, _):
            return [.ratio("merge_kernel", rate, Double(changes.count) / loro.importSeconds, unit: "changes/s", against: "Loro \(loro.version) import", atLeast: 1)]
        case .unavailable(let reason):
            return [.ratio("merge_kernel", rate, nil, unit: "changes/s", against: "Loro import", atLeast: 1, note: reason)]
        }
    }
}
