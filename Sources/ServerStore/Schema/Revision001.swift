/// Schema revision 1: the records of DOMAIN.md §1 that the demo data set holds.
///
/// Every table carries `tenant_id`, so that the schema can later be distributed by tenant.
/// Column names match the files of `Fixtures/demo/` one for one, which is what lets the demo
/// loader stream each file into its table with `COPY`.
enum Revision001 {
    static let sql = """
        CREATE TABLE tenants (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            time_zone text NOT NULL,
            currency char(3) NOT NULL,
            geofence_radius_m integer NOT NULL CHECK (geofence_radius_m > 0)
        );

        CREATE TABLE users (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            role text NOT NULL CHECK (role IN ('rep', 'technician', 'dispatcher', 'manager', 'admin')),
            name text NOT NULL,
            email text NOT NULL,
            phone text,
            manager_id uuid REFERENCES users,
            UNIQUE (tenant_id, email)
        );

        CREATE TABLE territories (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            name text NOT NULL
        );

        -- Ownership over time, so that access can be judged at an edit's time.
        CREATE TABLE territory_owners (
            territory_id uuid NOT NULL REFERENCES territories,
            user_id uuid NOT NULL REFERENCES users,
            valid_from timestamptz NOT NULL,
            valid_to timestamptz CHECK (valid_to IS NULL OR valid_to > valid_from),
            PRIMARY KEY (territory_id, user_id, valid_from)
        );

        CREATE TABLE products (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            sku text NOT NULL,
            name text NOT NULL,
            category text NOT NULL,
            unit text NOT NULL,
            tax_rate_percent numeric(7, 4) NOT NULL CHECK (tax_rate_percent >= 0),
            active boolean NOT NULL,
            UNIQUE (tenant_id, sku)
        );

        CREATE TABLE price_lists (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            name text NOT NULL,
            currency char(3) NOT NULL,
            tax_inclusive boolean NOT NULL,
            customer_group text NOT NULL,
            valid_from date NOT NULL
        );

        CREATE TABLE price_list_entries (
            price_list_id uuid NOT NULL REFERENCES price_lists,
            product_id uuid NOT NULL REFERENCES products,
            unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
            PRIMARY KEY (price_list_id, product_id)
        );

        CREATE TABLE customers (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            territory_id uuid NOT NULL REFERENCES territories,
            name text NOT NULL,
            normalized_name text NOT NULL,
            phone text,
            tax_number text,
            street_address text,
            city text,
            postal_code text,
            latitude numeric(9, 6) CHECK (latitude BETWEEN -90 AND 90),
            longitude numeric(9, 6) CHECK (longitude BETWEEN -180 AND 180),
            geofence_radius_m integer CHECK (geofence_radius_m > 0),
            customer_group text NOT NULL,
            price_list_id uuid REFERENCES price_lists,
            credit_limit_minor bigint NOT NULL CHECK (credit_limit_minor >= 0),
            payment_terms_days integer NOT NULL CHECK (payment_terms_days >= 0),
            status text NOT NULL CHECK (status IN ('unverified', 'active', 'blocked'))
        );
        CREATE INDEX customers_by_territory ON customers (tenant_id, territory_id);
        CREATE INDEX customers_by_normalized_name ON customers (tenant_id, normalized_name);

        CREATE TABLE visit_plans (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            rep_id uuid NOT NULL REFERENCES users,
            name text NOT NULL,
            period_start date NOT NULL,
            period_end date NOT NULL CHECK (period_end >= period_start)
        );

        CREATE TABLE visits (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            plan_id uuid REFERENCES visit_plans,
            customer_id uuid NOT NULL REFERENCES customers,
            assignee_id uuid NOT NULL REFERENCES users,
            visit_type text NOT NULL,
            sequence integer,
            planned_start timestamptz,
            planned_end timestamptz,
            instructions text,
            status text NOT NULL CHECK (status IN ('planned', 'in_progress', 'completed', 'cancelled', 'abandoned', 'missed')),
            creation_mode text NOT NULL CHECK (creation_mode IN ('planned', 'ad_hoc'))
        );
        CREATE INDEX visits_by_assignee_and_time ON visits (tenant_id, assignee_id, planned_start);
        CREATE INDEX visits_by_customer ON visits (customer_id);

        CREATE TABLE assets (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            customer_id uuid NOT NULL REFERENCES customers,
            serial text NOT NULL,
            model text NOT NULL,
            maintenance_plan text
        );

        CREATE TABLE work_orders (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES tenants,
            customer_id uuid NOT NULL REFERENCES customers,
            asset_id uuid REFERENCES assets,
            work_type text NOT NULL,
            priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
            description text,
            window_start timestamptz,
            window_end timestamptz CHECK (window_end IS NULL OR window_end > window_start),
            assignee_id uuid REFERENCES users,
            status text NOT NULL CHECK (status IN ('new', 'scheduled', 'dispatched', 'en_route', 'on_site', 'on_hold',
                                                   'completed', 'cannot_complete', 'closed', 'cancelled'))
        );
        CREATE INDEX work_orders_by_assignee ON work_orders (tenant_id, assignee_id, window_start);
        """
}
