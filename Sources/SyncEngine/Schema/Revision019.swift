/// Schema revision 19: master data imports (issue 20, item 1): customers, contacts, products and
/// price lists carry the ERP's key, and imports find records by it.
enum Revision019 {
    static let sql = ["customers", "contacts", "products", "price_lists"].map { table in
        """
        ALTER TABLE \(table) ADD COLUMN erp_reference text, ADD COLUMN erp_reference__clock bigint, ADD COLUMN erp_reference__replica integer;
        CREATE INDEX \(table)_by_erp_reference ON \(table) (tenant_id, erp_reference) WHERE erp_reference IS NOT NULL;
        """
    }.joined(separator: "\n")
}
