/// Schema revision 21: pricing as the domain says (issue 20, item 3): a price list's end of
/// validity, and the tenant's default lists.
enum Revision021 {
    static let sql = """
        ALTER TABLE price_lists ADD COLUMN valid_to bigint, ADD COLUMN valid_to__clock bigint, ADD COLUMN valid_to__replica integer,
            ADD COLUMN is_default boolean, ADD COLUMN is_default__clock bigint, ADD COLUMN is_default__replica integer;
        """
}
