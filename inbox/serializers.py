"""A task as the API shows it: the row of an inbox, a queue, a dashboard."""
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import rows


class TaskSerializer(serializers.Serializer):
    """The row's fields as every task list shows them: `subject` (what the task is about, made by
    its procedure, in the reader's language), `step`/`title`, `due`, `days_overdue`, `age`, `owner`
    (or the `queue` it waits in). A list attaches the subjects first (inbox.rows.attach_subjects),
    so it costs the same with 5 tasks as with 500."""

    id = serializers.IntegerField(source="pk")
    process = serializers.IntegerField(source="process_id")
    subject = serializers.SerializerMethodField()
    flow = serializers.SerializerMethodField()
    step = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()
    status = serializers.CharField()
    owner = serializers.CharField(source="owner.username", default=None)
    queue = serializers.CharField(source="owner_permission", default=None)
    created = serializers.DateTimeField()
    records = serializers.SerializerMethodField()
    due = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    days_overdue = serializers.SerializerMethodField()
    age = serializers.SerializerMethodField()
    queue_label = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_subject(self, task):
        if not hasattr(task, "subject"):  # a single task (detail, claim, release)
            rows.attach_subjects([task])
        return str(task.subject)

    @extend_schema_field(serializers.IntegerField(
        allow_null=True, help_text="Whole days past the due date: 0 when not overdue, null without a due date."))
    def get_days_overdue(self, task):
        return rows.days_overdue(task, self.context.get("now"))

    @extend_schema_field(serializers.IntegerField(help_text="Whole days since the task was created."))
    def get_age(self, task):
        return rows.age_days(task, self.context.get("now"))

    @extend_schema_field(serializers.CharField(allow_null=True, help_text=(
        "The queue the task waits in, as people name it (the department, in the reader's language).")))
    def get_queue_label(self, task):
        return rows.queue_label(task.owner_permission) if task.owner_permission else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_due(self, task):
        deadline = getattr(task, "deadline", None)  # a human task's due date (inbox.TaskDeadline)
        return deadline.due_date.isoformat() if deadline is not None else None

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, task):
        deadline = getattr(task, "deadline", None)
        return deadline is not None and timezone.now() >= deadline.due_at

    @extend_schema_field(serializers.CharField())
    def get_flow(self, task):
        return task.flow_task.flow_class.__name__

    @extend_schema_field(serializers.CharField())
    def get_step(self, task):
        return task.flow_task.name

    @extend_schema_field(serializers.CharField())
    def get_title(self, task):
        return str(task.flow_task.task_title or task.flow_task.name)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_records(self, task):
        return self.context.get("records_by_process", {}).get(task.process_id, [])
