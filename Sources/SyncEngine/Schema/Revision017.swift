/// Schema revision 17: service steps (issue 19, item 4): a work-order type's checklist and the
/// technicians' answers, append-only.
enum Revision017 {
    static let sql = """
        CREATE TABLE work_order_type_steps (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            work_order_type_id uuid,
            work_order_type_id__clock bigint,
            work_order_type_id__replica integer,
            position bigint,
            position__clock bigint,
            position__replica integer,
            label text,
            label__clock bigint,
            label__replica integer,
            answer_kind text,
            answer_kind__clock bigint,
            answer_kind__replica integer,
            min_value bigint,
            min_value__clock bigint,
            min_value__replica integer,
            max_value bigint,
            max_value__clock bigint,
            max_value__replica integer,
            required boolean,
            required__clock bigint,
            required__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );

        CREATE TABLE step_answers (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            work_order_id uuid,
            work_order_id__clock bigint,
            work_order_id__replica integer,
            step_id uuid,
            step_id__clock bigint,
            step_id__replica integer,
            answered_by uuid,
            answered_by__clock bigint,
            answered_by__replica integer,
            answered_at bigint,
            answered_at__clock bigint,
            answered_at__replica integer,
            yes_no boolean,
            yes_no__clock bigint,
            yes_no__replica integer,
            number_value bigint,
            number_value__clock bigint,
            number_value__replica integer,
            text_value text,
            text_value__clock bigint,
            text_value__replica integer,
            photo_attachment_id uuid,
            photo_attachment_id__clock bigint,
            photo_attachment_id__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX step_answers_by_work_order ON step_answers (tenant_id, work_order_id) WHERE NOT _deleted;
        """
}
