"""The due date on the task row (issue 15.2): `viewflow_task.qms_due_at`, a copy of the task's
`inbox_taskdeadline.due_at` kept by the database itself (a trigger on the deadline table), so that a
list sorted or filtered by due date (the queue and inbox pages, the dashboard, ?ordering=due,
?overdue=) reads one table and its partial index instead of joining every listed task with its
deadline to sort them: at 1 M tasks the queue's 4,130 tasks were 4,130 index probes per scan.

Why a column kept by a trigger, and not a field: the task table is viewflow's (a field added to its
model would be a migration of viewflow's app), and a trigger cannot be forgotten by any code path
that writes a deadline (the engine's step creation, a reassignment, a recalculated target, the
benchmark generator's bulk SQL). Django never writes the column: its INSERT and UPDATE of a task
name only the model's fields. The lists read it through `inbox.due.with_due()`.

The deadline table stays the truth: a task without a deadline has NULL, like the LEFT JOIN gave.
`tests/test_task_due_column.py` checks that the column follows every write of a deadline on both
databases and that the lists' rows are those of the join."""
from django.db import migrations

INDEXES = {
    # the queue sorted by due date (the queue page, the dashboard's queue and its overdue part)
    "task_queue_by_due": "(owner_permission, qms_due_at, id, flow_task) "
                         "WHERE status = 'NEW' AND owner_id IS NULL AND flow_task_type = 'HUMAN'",
    # my open tasks sorted by due date (the inbox page, the dashboard's inbox and its overdue part)
    "task_open_by_owner_due": "(owner_id, qms_due_at, id, flow_task) WHERE status IN ('NEW', 'ASSIGNED', 'STARTED')",
}

#: the triggers below, by database (inbox.due.missing checks they are there)
TRIGGERS = {"postgresql": ("qms_task_due",),
            "sqlite": ("qms_task_due_insert", "qms_task_due_update", "qms_task_due_delete")}

POSTGRESQL_COLUMN = "ALTER TABLE viewflow_task ADD COLUMN IF NOT EXISTS qms_due_at timestamp with time zone NULL"
POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION qms_task_due() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE viewflow_task SET qms_due_at = NULL WHERE id = OLD.task_id AND qms_due_at IS NOT NULL;
            RETURN OLD;
        END IF;
        UPDATE viewflow_task SET qms_due_at = NEW.due_at
         WHERE id = NEW.task_id AND qms_due_at IS DISTINCT FROM NEW.due_at;
        RETURN NEW;
    END $$""",
    "DROP TRIGGER IF EXISTS qms_task_due ON inbox_taskdeadline",
    "CREATE TRIGGER qms_task_due AFTER INSERT OR DELETE OR UPDATE OF due_at ON inbox_taskdeadline "
    "FOR EACH ROW EXECUTE FUNCTION qms_task_due()",
]
POSTGRESQL_BACKWARDS = [
    "DROP TRIGGER IF EXISTS qms_task_due ON inbox_taskdeadline",
    "DROP FUNCTION IF EXISTS qms_task_due()",
    "ALTER TABLE viewflow_task DROP COLUMN IF EXISTS qms_due_at",
]

SQLITE_COLUMN = "ALTER TABLE viewflow_task ADD COLUMN qms_due_at datetime NULL"
SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS qms_task_due_insert AFTER INSERT ON inbox_taskdeadline BEGIN "
    "UPDATE viewflow_task SET qms_due_at = NEW.due_at WHERE id = NEW.task_id; END",
    "CREATE TRIGGER IF NOT EXISTS qms_task_due_update AFTER UPDATE OF due_at ON inbox_taskdeadline BEGIN "
    "UPDATE viewflow_task SET qms_due_at = NEW.due_at WHERE id = NEW.task_id; END",
    "CREATE TRIGGER IF NOT EXISTS qms_task_due_delete AFTER DELETE ON inbox_taskdeadline BEGIN "
    "UPDATE viewflow_task SET qms_due_at = NULL WHERE id = OLD.task_id; END",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS qms_task_due_insert",
    "DROP TRIGGER IF EXISTS qms_task_due_update",
    "DROP TRIGGER IF EXISTS qms_task_due_delete",
    "ALTER TABLE viewflow_task DROP COLUMN qms_due_at",
]

BACKFILL = ("UPDATE viewflow_task SET qms_due_at = (SELECT d.due_at FROM inbox_taskdeadline d "
            "WHERE d.task_id = viewflow_task.id) "
            "WHERE id IN (SELECT task_id FROM inbox_taskdeadline)")


def forwards(apps, schema_editor):
    """Idempotent: also what inbox.due.ensure() runs when a table rebuilt on SQLite lost the column or its
    triggers."""
    connection = schema_editor.connection
    vendor = connection.vendor
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, "viewflow_task")]
    if "qms_due_at" not in columns:
        schema_editor.execute(POSTGRESQL_COLUMN if vendor == "postgresql" else SQLITE_COLUMN)
    for statement in POSTGRESQL if vendor == "postgresql" else SQLITE:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON viewflow_task {definition}")


def backwards(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    vendor = schema_editor.connection.vendor
    for statement in POSTGRESQL_BACKWARDS if vendor == "postgresql" else SQLITE_BACKWARDS:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0005_report_notifications"),
        ("workflows", "0007_task_list_indexes"),
        ("viewflow", "0015_task_scheduled"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
