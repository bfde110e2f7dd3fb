/// Schema revision 12: the customer's comment with their rating of a work order (service
/// evaluation: `work_orders.rating_comment`).
enum Revision012 {
    static let sql = """
        ALTER TABLE work_orders ADD COLUMN rating_comment text, ADD COLUMN rating_comment__clock bigint, ADD COLUMN rating_comment__replica integer;
        """
}
