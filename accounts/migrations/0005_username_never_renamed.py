"""SIG-10 (21 CFR 11.100): a user ID is never reused or reassigned, so the database itself refuses to
rename one (the model and the admin refuse first; this catches a bulk UPDATE or a raw query)."""
from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION qms_refuse_username_change() RETURNS trigger AS $$
BEGIN
    IF NEW.username IS DISTINCT FROM OLD.username THEN
        RAISE EXCEPTION 'user IDs are never renamed (21 CFR 11.100): % refused', OLD.username
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    table = apps.get_model("accounts", "User")._meta.db_table
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        schema_editor.execute(f"CREATE TRIGGER {table}_username_fixed BEFORE UPDATE OF username ON {table} "
                              f"FOR EACH ROW EXECUTE FUNCTION qms_refuse_username_change();")
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"CREATE TRIGGER {table}_username_fixed BEFORE UPDATE OF username ON {table} "
                              f"FOR EACH ROW WHEN NEW.username IS NOT OLD.username BEGIN "
                              f"SELECT RAISE(ABORT, 'user IDs are never renamed (21 CFR 11.100)'); END;")


def backwards(apps, schema_editor):
    table = apps.get_model("accounts", "User")._meta.db_table
    if schema_editor.connection.vendor in ("postgresql", "sqlite"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_username_fixed" +
                              (f" ON {table};" if schema_editor.connection.vendor == "postgresql" else ";"))
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS qms_refuse_username_change();")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_delete_accountabilityacceptance")]
    operations = [migrations.RunPython(forwards, backwards)]
