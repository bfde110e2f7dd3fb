/// Schema revision 22: quotes (issue 20, item 3): a quote and its lines, and the quote an order
/// was converted from.
enum Revision022 {
    static let sql = """
        CREATE TABLE quotes (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            customer_id uuid,
            customer_id__clock bigint,
            customer_id__replica integer,
            created_by uuid,
            created_by__clock bigint,
            created_by__replica integer,
            price_list_id uuid,
            price_list_id__clock bigint,
            price_list_id__replica integer,
            currency text,
            currency__clock bigint,
            currency__replica integer,
            tax_inclusive boolean,
            tax_inclusive__clock bigint,
            tax_inclusive__replica integer,
            quote_date bigint,
            quote_date__clock bigint,
            quote_date__replica integer,
            valid_until bigint,
            valid_until__clock bigint,
            valid_until__replica integer,
            copied_from uuid,
            copied_from__clock bigint,
            copied_from__replica integer,
            status text,
            status__epoch integer,
            status__clock bigint,
            status__replica integer,
            note text,
            note__clock bigint,
            note__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX quotes_by_customer ON quotes (tenant_id, customer_id) WHERE NOT _deleted;

        CREATE TABLE quote_lines (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            quote_id uuid,
            quote_id__clock bigint,
            quote_id__replica integer,
            product_id uuid,
            product_id__clock bigint,
            product_id__replica integer,
            quantity bigint,
            quantity__clock bigint,
            quantity__replica integer,
            discount_bp bigint,
            discount_bp__clock bigint,
            discount_bp__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX quote_lines_by_quote ON quote_lines (tenant_id, quote_id) WHERE NOT _deleted;

        ALTER TABLE sales_orders ADD COLUMN quote_id uuid, ADD COLUMN quote_id__clock bigint, ADD COLUMN quote_id__replica integer;
        """
}
