/// Schema revision 23: the rep's visit planning and typed task results (issue 20, item 4):
/// recurring visit plans (`visit_schedules`), weekly plans and their proposed visits, where a
/// visit came from, and a visit task's question, kind of answer and typed answer.
enum Revision023 {
    static let sql = """
        CREATE TABLE visit_schedules (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            customer_id uuid,
            customer_id__clock bigint,
            customer_id__replica integer,
            rep_id uuid,
            rep_id__clock bigint,
            rep_id__replica integer,
            visit_type text,
            visit_type__clock bigint,
            visit_type__replica integer,
            every_weeks bigint,
            every_weeks__clock bigint,
            every_weeks__replica integer,
            weekday bigint,
            weekday__clock bigint,
            weekday__replica integer,
            start_minute bigint,
            start_minute__clock bigint,
            start_minute__replica integer,
            duration_minutes bigint,
            duration_minutes__clock bigint,
            duration_minutes__replica integer,
            starts_on bigint,
            starts_on__clock bigint,
            starts_on__replica integer,
            ends_on bigint,
            ends_on__clock bigint,
            ends_on__replica integer,
            lead_days bigint,
            lead_days__clock bigint,
            lead_days__replica integer,
            active boolean,
            active__clock bigint,
            active__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX visit_schedules_by_rep ON visit_schedules (tenant_id, rep_id) WHERE NOT _deleted;

        CREATE TABLE week_plans (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            rep_id uuid,
            rep_id__clock bigint,
            rep_id__replica integer,
            week_start bigint,
            week_start__clock bigint,
            week_start__replica integer,
            note text,
            note__clock bigint,
            note__replica integer,
            status text,
            status__epoch integer,
            status__clock bigint,
            status__replica integer,
            decision_note text,
            decision_note__clock bigint,
            decision_note__replica integer,
            decided_by uuid,
            decided_by__clock bigint,
            decided_by__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX week_plans_by_rep ON week_plans (tenant_id, rep_id, week_start) WHERE NOT _deleted;

        CREATE TABLE week_plan_visits (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            week_plan_id uuid,
            week_plan_id__clock bigint,
            week_plan_id__replica integer,
            customer_id uuid,
            customer_id__clock bigint,
            customer_id__replica integer,
            visit_type text,
            visit_type__clock bigint,
            visit_type__replica integer,
            planned_start bigint,
            planned_start__clock bigint,
            planned_start__replica integer,
            planned_end bigint,
            planned_end__clock bigint,
            planned_end__replica integer,
            purpose text,
            purpose__clock bigint,
            purpose__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX week_plan_visits_by_plan ON week_plan_visits (tenant_id, week_plan_id) WHERE NOT _deleted;

        ALTER TABLE visits ADD COLUMN schedule_id uuid, ADD COLUMN schedule_id__clock bigint, ADD COLUMN schedule_id__replica integer, ADD COLUMN week_plan_id uuid, ADD COLUMN week_plan_id__clock bigint, ADD COLUMN week_plan_id__replica integer;
        CREATE INDEX visits_by_schedule ON visits (tenant_id, schedule_id, planned_start) WHERE schedule_id IS NOT NULL;
        ALTER TABLE visit_tasks ADD COLUMN label text, ADD COLUMN label__clock bigint, ADD COLUMN label__replica integer, ADD COLUMN answer_kind text, ADD COLUMN answer_kind__clock bigint, ADD COLUMN answer_kind__replica integer, ADD COLUMN min_value bigint, ADD COLUMN min_value__clock bigint, ADD COLUMN min_value__replica integer, ADD COLUMN max_value bigint, ADD COLUMN max_value__clock bigint, ADD COLUMN max_value__replica integer, ADD COLUMN yes_no boolean, ADD COLUMN yes_no__clock bigint, ADD COLUMN yes_no__replica integer, ADD COLUMN number_value bigint, ADD COLUMN number_value__clock bigint, ADD COLUMN number_value__replica integer, ADD COLUMN photo_attachment_id uuid, ADD COLUMN photo_attachment_id__clock bigint, ADD COLUMN photo_attachment_id__replica integer, ADD COLUMN answered_at bigint, ADD COLUMN answered_at__clock bigint, ADD COLUMN answered_at__replica integer;
        """
}
