/// Schema revision 13: a work order's arrival on site, located like a check-in: where the
/// technician's phone was, and how the server judged it against the customer's location.
enum Revision013 {
    static let sql = """
        ALTER TABLE work_orders
            ADD COLUMN arrival_latitude_e6 bigint, ADD COLUMN arrival_latitude_e6__clock bigint, ADD COLUMN arrival_latitude_e6__replica integer,
            ADD COLUMN arrival_longitude_e6 bigint, ADD COLUMN arrival_longitude_e6__clock bigint, ADD COLUMN arrival_longitude_e6__replica integer,
            ADD COLUMN arrival_accuracy_m bigint, ADD COLUMN arrival_accuracy_m__clock bigint, ADD COLUMN arrival_accuracy_m__replica integer,
            ADD COLUMN arrival_mock_location boolean, ADD COLUMN arrival_mock_location__clock bigint, ADD COLUMN arrival_mock_location__replica integer,
            ADD COLUMN arrival_distance_m bigint, ADD COLUMN arrival_distance_m__clock bigint, ADD COLUMN arrival_distance_m__replica integer,
            ADD COLUMN arrival_verification text, ADD COLUMN arrival_verification__clock bigint, ADD COLUMN arrival_verification__replica integer;
        """
}
