public import FieldModel
public import SyncCore

extension DeviceStore {
    /// Adds a new customer in one of the rep's territories. The server gives it its commercial
    /// terms and the status `unverified`, and checks it against existing customers for duplicates.
    public func createCustomer(name: String, territory: RecordID, phone: String? = nil,
                               streetAddress: String? = nil, city: String? = nil, location: Coordinate? = nil) async throws -> ActionReport {
        guard !name.trimmingSpaces.isEmpty else { throw StoreError(.invalidArgument, "a customer needs a name") }
        let (id, changeSet) = try await act { session, _, db in
            let id = session.newID()
            try session.write("customers", id, [
                ("territory_id", .id(territory)), ("name", .text(name)), ("phone", phone.map(FieldValue.text) ?? .null),
                ("street_address", streetAddress.map(FieldValue.text) ?? .null), ("city", city.map(FieldValue.text) ?? .null),
                ("latitude_e6", location.map { .integer($0.latitudeE6) } ?? .null), ("longitude_e6", location.map { .integer($0.longitudeE6) } ?? .null),
            ], in: db)
            return id
        }
        return ActionReport(record: id, changeSet: changeSet, warnings: [])
    }

    /// Corrects a customer's contact fields (`name`, `phone`, `tax_number`, `street_address`,
    /// `city`, `postal_code`, `latitude_e6`, `longitude_e6`); other fields belong to the office.
    public func correctCustomer(_ customer: RecordID, _ corrections: [String: FieldValue]) async throws -> ActionReport {
        let editable: Set<String> = ["name", "phone", "tax_number", "street_address", "city", "postal_code", "latitude_e6", "longitude_e6"]
        guard !corrections.isEmpty else { throw StoreError(.invalidArgument, "nothing to correct") }
        if let field = corrections.keys.sorted().first(where: { !editable.contains($0) }) {
            throw StoreError(.invalidArgument, "a rep does not edit customers.\(field)")
        }
        let (_, changeSet) = try await act { session, _, db in
            _ = try session.existing("customers", customer, in: db)
            try session.write("customers", customer, corrections.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, in: db)
        }
        return ActionReport(record: customer, changeSet: changeSet, warnings: [])
    }
}
