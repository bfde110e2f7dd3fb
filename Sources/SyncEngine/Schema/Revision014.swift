/// Schema revision 14: the resources automatic dispatch reads (issue 19, items 1 and 2).
///
/// Work-order types with their duration and required skills; each technician's working week,
/// start location, skills, service territories and absences; a work order's booked appointment
/// (`scheduled_start`/`scheduled_end`), its dispatch mode and the reason automatic dispatch
/// gave; the tenant's switch; and `dispatch_decisions`, every decision the server made with its
/// reason and what the dispatcher did with it (accepted, overridden, superseded by a later one).
enum Revision014 {
    static let sql = """
        CREATE TABLE work_order_types (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            code text,
            code__clock bigint,
            code__replica integer,
            name text,
            name__clock bigint,
            name__replica integer,
            duration_minutes bigint,
            duration_minutes__clock bigint,
            duration_minutes__replica integer,
            signature_required boolean,
            signature_required__clock bigint,
            signature_required__replica integer,
            active boolean,
            active__clock bigint,
            active__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );

        CREATE TABLE work_order_type_skills (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            work_order_type_id uuid,
            work_order_type_id__clock bigint,
            work_order_type_id__replica integer,
            skill text,
            skill__clock bigint,
            skill__replica integer,
            min_level bigint,
            min_level__clock bigint,
            min_level__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );

        CREATE TABLE technician_profiles (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            user_id uuid,
            user_id__clock bigint,
            user_id__replica integer,
            start_latitude_e6 bigint,
            start_latitude_e6__clock bigint,
            start_latitude_e6__replica integer,
            start_longitude_e6 bigint,
            start_longitude_e6__clock bigint,
            start_longitude_e6__replica integer,
            workday_start_minute bigint,
            workday_start_minute__clock bigint,
            workday_start_minute__replica integer,
            workday_end_minute bigint,
            workday_end_minute__clock bigint,
            workday_end_minute__replica integer,
            working_days bigint,
            working_days__clock bigint,
            working_days__replica integer,
            daily_capacity bigint,
            daily_capacity__clock bigint,
            daily_capacity__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );

        CREATE TABLE technician_skills (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            user_id uuid,
            user_id__clock bigint,
            user_id__replica integer,
            skill text,
            skill__clock bigint,
            skill__replica integer,
            level bigint,
            level__clock bigint,
            level__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );

        CREATE TABLE service_territories (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            user_id uuid,
            user_id__clock bigint,
            user_id__replica integer,
            territory_id uuid,
            territory_id__clock bigint,
            territory_id__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );

        CREATE TABLE absences (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            user_id uuid,
            user_id__clock bigint,
            user_id__replica integer,
            starts_at bigint,
            starts_at__clock bigint,
            starts_at__replica integer,
            ends_at bigint,
            ends_at__clock bigint,
            ends_at__replica integer,
            reason text,
            reason__clock bigint,
            reason__replica integer,
            _tombstone_clock bigint,
            _tombstone_replica integer,
            _deleted boolean NOT NULL DEFAULT false,
            PRIMARY KEY (tenant_id, id)
        );

        ALTER TABLE work_orders
            ADD COLUMN scheduled_start bigint, ADD COLUMN scheduled_start__clock bigint, ADD COLUMN scheduled_start__replica integer,
            ADD COLUMN scheduled_end bigint, ADD COLUMN scheduled_end__clock bigint, ADD COLUMN scheduled_end__replica integer,
            ADD COLUMN dispatch_mode text, ADD COLUMN dispatch_mode__clock bigint, ADD COLUMN dispatch_mode__replica integer,
            ADD COLUMN dispatch_reason text, ADD COLUMN dispatch_reason__clock bigint, ADD COLUMN dispatch_reason__replica integer;

        ALTER TABLE tenants
            ADD COLUMN auto_dispatch boolean, ADD COLUMN auto_dispatch__clock bigint, ADD COLUMN auto_dispatch__replica integer;

        CREATE TABLE dispatch_decisions (
            tenant_id uuid NOT NULL,
            id bigint GENERATED ALWAYS AS IDENTITY,
            work_order_id uuid NOT NULL,
            decided_at bigint NOT NULL,
            outcome text NOT NULL CHECK (outcome IN ('assigned', 'waiting')),
            technician_id uuid,
            slot_start bigint,
            slot_end bigint,
            reason text NOT NULL,
            review text NOT NULL DEFAULT 'open' CHECK (review IN ('open', 'accepted', 'overridden', 'superseded')),
            reviewed_by uuid,
            reviewed_at bigint,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE INDEX dispatch_decisions_by_work_order ON dispatch_decisions (tenant_id, work_order_id, id);
        CREATE INDEX technician_skills_by_user ON technician_skills (tenant_id, user_id);
        CREATE INDEX service_territories_by_user ON service_territories (tenant_id, user_id);
        CREATE INDEX absences_by_user ON absences (tenant_id, user_id, ends_at);
        """
}
