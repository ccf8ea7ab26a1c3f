"""Task lists at a plant's size (issue 15): partial indexes on viewflow's task table, which
belongs to the viewflow app (so they are made here, in SQL; PostgreSQL and SQLite both take
partial indexes). Each serves one list of inbox/ and api/ (EXPLAIN plans in README
"Performance"):

- task_open_by_owner: my open tasks (GET /api/tasks/, the inbox page, the dashboard), by created;
- task_queue_by_permission: the tasks waiting in a queue (?queue=1, the queue page, the dashboard);
- task_done_by_owner: "recently completed by me" (the dashboard), newest first;
- task_start_by_owner: "processes I started" (the dashboard), newest first.

Every filter they serve also names the flows by the task's own flow_task (inbox.queues.of_flows),
which is in the open-task indexes (and in the done tasks' since 0008), so those lists neither join the
process table nor read the heap to filter."""
from django.db import migrations

INDEXES = {
    "task_open_by_owner": "(owner_id, created, id, flow_task) WHERE status IN ('NEW', 'ASSIGNED', 'STARTED')",
    "task_queue_by_permission": "(owner_permission, created, id, flow_task) "
                                "WHERE status = 'NEW' AND owner_id IS NULL AND flow_task_type = 'HUMAN'",
    "task_done_by_owner": "(owner_id, finished DESC, id DESC) WHERE status = 'DONE'",
    "task_start_by_owner": "(owner_id, created DESC, id DESC) WHERE flow_task_type = 'HUMAN_START'",
}


def forwards(apps, schema_editor):
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON viewflow_task {definition}")


def backwards(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0006_process_proxies_move_to_their_procedures"),
        ("viewflow", "0015_task_scheduled"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
