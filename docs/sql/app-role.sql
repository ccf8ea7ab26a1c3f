-- As the OWNER role (qms_owner), after every `manage.py migrate`: the rights of the application's
-- role (qms_app). Idempotent. (docs/AUDIT-ANCHORING.md)
--
--   psql "postgres://qms_owner@HOST/qms" -v app=qms_app -f docs/sql/app-role.sql
--
-- The evidence tables are append-only: the triggers of core migration 0002 refuse UPDATE and
-- DELETE on core_auditentry, core_recordversion, core_signature and core_recordfile, but a
-- trigger only binds those who cannot switch it off. Here the application's role gets SELECT and
-- INSERT on them and nothing else: no UPDATE, DELETE, TRUNCATE, TRIGGER or REFERENCES, and as it
-- owns no table it cannot ALTER TABLE … DISABLE TRIGGER; as it is not superuser it cannot
-- SET session_replication_role = replica. The one legitimate change to a version (blanking a
-- destroyed record's data) goes through qms_blank_destroyed_versions() (core migration 0006),
-- which runs with the owner's rights and only for a record that has a tombstone.
\set ON_ERROR_STOP on
\if :{?app}
\else
  \set app qms_app
\endif

BEGIN;
GRANT USAGE ON SCHEMA public TO :"app";
REVOKE CREATE ON SCHEMA public FROM :"app";

-- Working tables (procedures, tasks, users, sessions, Celery beat …): the ordinary rights.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
-- and the same for the tables later migrations create (run this script again after each migrate:
-- a new evidence table must be added to the list below)
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- Evidence: read and append only.
REVOKE ALL ON core_auditentry, core_recordversion, core_signature, core_recordfile, evidence_tombstone
    FROM :"app";
GRANT SELECT, INSERT ON core_auditentry, core_recordversion, core_signature, core_recordfile, evidence_tombstone
    TO :"app";

-- The chain's head row: created once, then moved forward under a row lock (SELECT … FOR UPDATE
-- needs UPDATE). Setting it back is detected by verify_audit (head vs. last entry, checkpoints).
REVOKE ALL ON core_audithead FROM :"app";
GRANT SELECT, INSERT, UPDATE ON core_audithead TO :"app";

-- Schema history: only `migrate`, as the owner, writes it.
REVOKE ALL ON django_migrations FROM :"app";
GRANT SELECT ON django_migrations TO :"app";

-- Disposition (evidence.retention): blank a destroyed record's versions with the owner's rights.
REVOKE ALL ON FUNCTION qms_blank_destroyed_versions(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION qms_blank_destroyed_versions(bigint) TO :"app";
COMMIT;
