-- name: get_app_role_standing^
-- What could make the app role stronger than the service needs: superuser, bypassing row security,
-- membership in the migrating role, tables of its own in this schema.
SELECT r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb AS privileged,
       pg_has_role(r.oid, current_user, 'MEMBER') AS member_of_owner,
       EXISTS (
           SELECT 1 FROM pg_class c
           WHERE c.relowner = r.oid AND c.relnamespace = current_schema()::regnamespace
       ) AS owns_relations
FROM pg_roles r
WHERE r.rolname = :name;

-- name: role_exists$
-- Whether a database role of this name exists (roles are shared by the whole cluster).
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :name);

-- name: role_statement$
-- A role statement with its identifier and password quoted by the server (they cannot be parameters).
SELECT format(:template::text, :name::text, :password::text);

-- name: grant_app_privileges#
-- Give the app role (the setting tumorboard.app_role) its rights on every relation of the schema, by rule:
-- SELECT, INSERT, UPDATE, DELETE on tables and views; only SELECT and INSERT on the append-only audit
-- tables (named audit_*, and every partition under them, whatever its name); only SELECT on the tables
-- that only migrations write (the lifecycle's transition table, the migration record); sequences; functions.
-- Relations this role creates later (a partition made at run time) get SELECT and INSERT by default,
-- the next migrate adds the rest. No TRUNCATE, REFERENCES or TRIGGER anywhere; DDL stays with the owner.
DO $$
DECLARE
    app text := current_setting('tumorboard.app_role');
    here text := current_schema();
    audit_table regclass;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', here, app);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', here, app);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', here, app);
    FOR audit_table IN
        WITH RECURSIVE append_only (oid) AS (
            SELECT c.oid FROM pg_class c
            WHERE c.relnamespace = here::regnamespace AND c.relkind IN ('r', 'p') AND c.relname LIKE 'audit\_%'
            UNION
            SELECT i.inhrelid FROM pg_inherits i JOIN append_only a ON i.inhparent = a.oid
        )
        SELECT oid::regclass FROM append_only
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE ON %s FROM %I', audit_table, app);
    END LOOP;
    FOR audit_table IN
        SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = here::regnamespace AND c.relname IN ('case_status_transition', 'schema_migration')
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON %s FROM %I', audit_table, app);
    END LOOP;
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', here, app);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', here, app);
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO %I', here, app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT ON TABLES TO %I', here, app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I', here, app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT EXECUTE ON FUNCTIONS TO %I', here, app);
END
$$;
