-- Once, as a PostgreSQL superuser: the two roles of a QMS installation and its database.
-- (docs/AUDIT-ANCHORING.md, "A database role that does not own the tables")
--
--   psql -h HOST -U postgres -v owner=qms_owner -v app=qms_app -v db=qms \
--        -v owner_password=... -v app_password=... -f docs/sql/roles.sql
--
-- qms_owner owns the database and its tables and runs `manage.py migrate` (and `restore`);
-- its password is not on the application servers. qms_app is what DATABASE_URL of the web
-- server, the Celery worker and beat uses: no superuser (so no session_replication_role),
-- no ownership (so no ALTER TABLE … DISABLE TRIGGER, no DROP), no CREATEROLE/CREATEDB.
\set ON_ERROR_STOP on
\if :{?owner}
\else
  \set owner qms_owner
\endif
\if :{?app}
\else
  \set app qms_app
\endif
\if :{?db}
\else
  \set db qms
\endif

CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT PASSWORD :'app_password';
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";

\connect :"db"
-- PostgreSQL 15+ already keeps CREATE on schema public from PUBLIC; older versions do not.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO :"owner";
