"""Open tasks the flow assigned to a person without a queue record that person as their
assignee (task.data["assignee"]), which the one claim/complete/release rule of
workflows.steps.Step reads. Tasks held by a substitute record the absent person.
A task released before this rule existed (no owner, no queue) is left alone here:
`manage.py return_released_tasks` gives each back to the person who released it, audited."""
from django.db import migrations

OPEN = ("ASSIGNED", "STARTED")


def record_assignees(apps, schema_editor):
    Task = apps.get_model("viewflow", "Task")
    personal = (Task.objects.filter(status__in=OPEN, flow_task_type="HUMAN", owner__isnull=False)
                .filter(owner_permission__isnull=True) | Task.objects.filter(
                    status__in=OPEN, flow_task_type="HUMAN", owner__isnull=False, owner_permission=""))
    for task in personal.iterator():
        data = task.data if isinstance(task.data, dict) else {}
        if "assignee" in data:
            continue
        data["assignee"] = data.get("on_behalf_of") or task.owner_id
        task.data = data
        task.save(update_fields=["data"])


class Migration(migrations.Migration):

    dependencies = [
        ("viewflow", "0015_task_scheduled"),
        ("workflows", "0004_capaprocess"),
    ]

    operations = [migrations.RunPython(record_assignees, migrations.RunPython.noop)]
