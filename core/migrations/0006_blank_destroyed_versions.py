"""The one privileged write to record versions — blanking the data of a destroyed record
(evidence.retention) — as a PostgreSQL function that runs with its owner's rights
(SECURITY DEFINER). The application's database role then needs neither UPDATE on
core_recordversion nor the ownership that disabling its append-only trigger takes
(docs/AUDIT-ANCHORING.md, docs/sql/app-role.sql). It blanks only the versions of a
record that has a tombstone, and only to the tombstone marker; the content hashes stay.
EXECUTE is revoked from PUBLIC; app-role.sql grants it to the application's role."""
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION qms_blank_destroyed_versions(p_record_id bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_number text;
    v_count integer;
BEGIN
    SELECT t.number INTO v_number FROM evidence_tombstone t WHERE t.record_id = p_record_id;
    IF v_number IS NULL THEN
        RAISE EXCEPTION 'record % has no tombstone: its versions are append-only', p_record_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    ALTER TABLE core_recordversion DISABLE TRIGGER core_recordversion_append_only;
    UPDATE core_recordversion SET data = jsonb_build_object('destroyed', v_number) WHERE record_id = p_record_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    ALTER TABLE core_recordversion ENABLE TRIGGER core_recordversion_append_only;
    RETURN v_count;
END;
$$;
REVOKE ALL ON FUNCTION qms_blank_destroyed_versions(bigint) FROM PUBLIC;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS qms_blank_destroyed_versions(bigint);")


class Migration(migrations.Migration):
    dependencies = [("core", "0005_signature_on_behalf_of"), ("evidence", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
